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
    // Labelled as the server labels its own: "New York — 09:14 (America/New York)".
    var lang = document.documentElement.lang || undefined;
    var hc = select.getAttribute('data-hc');
    var now = new Date();
    var label = function (z) {
      var city = z.split('/').pop().replace(/_/g, ' ');
      var time = '';
      try {
        var opts = { hour: 'numeric', minute: '2-digit', timeZone: z };
        if (hc) opts.hourCycle = hc === '24' ? 'h23' : 'h12';
        time = new Intl.DateTimeFormat(lang, opts).format(now);
      } catch (e) { /* a zone this browser cannot format: the name alone */ }
      return city + (time ? ' — ' + time : '') + ' (' + z.replace(/_/g, ' ') + ')';
    };
    var list = document.createDocumentFragment();
    for (var j = 0; j < zones.length; j++) {
      if (known[zones[j]]) continue;
      list.appendChild(new Option(label(zones[j]), zones[j]));
    }
    select.appendChild(list);
    // Sorted as one list again, the shown zone still selected.
    var options = Array.prototype.slice.call(select.options).sort(function (a, b) { return a.value < b.value ? -1 : a.value > b.value ? 1 : 0; });
    for (var k = 0; k < options.length; k++) select.appendChild(options[k]);
    select.value = shown;
    var more = document.querySelector('[data-tz-more]');
    if (more) more.parentNode.hidden = true;
    // A search box narrows the long list to the zones whose name matches what is typed.
    var search = document.createElement('input');
    search.type = 'search';
    search.id = 'tz-search';
    search.setAttribute('aria-label', select.getAttribute('data-search-label') || '');
    search.placeholder = select.getAttribute('data-search-label') || '';
    search.setAttribute('aria-controls', select.id);
    search.className = 'tz-search';
    search.addEventListener('input', function () {
      var q = search.value.trim().toLowerCase();
      var first = null;
      for (var m = 0; m < select.options.length; m++) {
        var o = select.options[m];
        var match = q === '' || o.text.toLowerCase().indexOf(q) !== -1 || o.value.toLowerCase().indexOf(q) !== -1;
        o.hidden = !match;
        if (match && !first) first = o;
      }
      if (q !== '' && first) select.value = first.value;
    });
    select.parentNode.parentNode.insertBefore(search, select.parentNode);
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
