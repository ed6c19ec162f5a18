// Progressive enhancement only. The page lists just the shown zone and the staff member's (the
// full list is a link away); here the list is filled from the browser's own zones, and the
// visitor's zone is pre-selected on the first visit. Without JavaScript the staff member's zone
// is used and "Another time zone" shows the whole list.
(function () {
  'use strict';
  var select = document.querySelector('[data-tz-select]');
  if (!select) return;
  var zones = [];
  try { zones = Intl.supportedValuesOf('timeZone'); } catch (e) { /* older browser: keep the link */ }
  if (zones.length > 0) {
    var shown = select.value;
    var known = {};
    for (var i = 0; i < select.options.length; i++) known[select.options[i].value] = true;
    var list = document.createDocumentFragment();
    for (var j = 0; j < zones.length; j++) {
      if (known[zones[j]]) continue;
      list.appendChild(new Option(zones[j], zones[j]));
    }
    select.appendChild(list);
    // Sorted as one list again, the shown zone still selected.
    var options = Array.prototype.slice.call(select.options).sort(function (a, b) { return a.value < b.value ? -1 : a.value > b.value ? 1 : 0; });
    for (var k = 0; k < options.length; k++) select.appendChild(options[k]);
    select.value = shown;
    var more = document.querySelector('[data-tz-more]');
    if (more) more.parentNode.hidden = true;
  }
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var params = new URLSearchParams(window.location.search);
  if (!zone || params.has('tz') || select.value === zone) return;
  for (var n = 0; n < select.options.length; n++) {
    if (select.options[n].value === zone) {
      params.set('tz', zone);
      window.location.replace(window.location.pathname + '?' + params.toString());
      return;
    }
  }
})();
