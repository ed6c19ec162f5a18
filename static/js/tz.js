// Progressive enhancement only: pre-select the visitor's own time zone on the slot picker.
// Without JavaScript the staff member's zone is used and the visitor can pick one.
(function () {
  'use strict';
  var select = document.querySelector('[data-tz-select]');
  if (!select) return;
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  var params = new URLSearchParams(window.location.search);
  if (!zone || params.has('tz') || select.value === zone) return;
  for (var i = 0; i < select.options.length; i++) {
    if (select.options[i].value === zone) {
      params.set('tz', zone);
      window.location.replace(window.location.pathname + '?' + params.toString());
      return;
    }
  }
})();
