// Progressive enhancement only: with this script, moving between days and months of the slot
// picker swaps the calendar and the times in place instead of loading a new page. The links
// stay ordinary links (the same URL is fetched from this origin and put in the address bar),
// so without JavaScript, or if anything here fails, the browser simply follows them.
(function () {
  'use strict';
  var picker = document.querySelector('.picker');
  if (!picker || !window.fetch || !window.DOMParser || !window.history.pushState) return;

  /** Replaces the picker with the one of `url`; false when that cannot be done. */
  function swap(url, focusSelector) {
    return fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) {
        if (!res.ok) throw new Error('status ' + res.status);
        return res.text();
      })
      .then(function (html) {
        var next = new DOMParser().parseFromString(html, 'text/html');
        var fresh = next.querySelector('.picker');
        var current = document.querySelector('.picker');
        if (!fresh || !current) throw new Error('no picker');
        current.replaceWith(document.importNode(fresh, true));
        // The zone form's hidden date/month follow the page too.
        var form = document.querySelector('[data-tz-form]');
        var freshForm = next.querySelector('[data-tz-form]');
        if (form && freshForm) {
          var hidden = form.querySelectorAll('input[type=hidden]');
          for (var i = 0; i < hidden.length; i++) hidden[i].remove();
          var add = freshForm.querySelectorAll('input[type=hidden]');
          var anchor = form.querySelector('button[type=submit]');
          for (var j = 0; j < add.length; j++) anchor.parentNode.insertBefore(document.importNode(add[j], true), anchor);
        }
        document.title = next.title;
        var target = document.querySelector(focusSelector) || document.querySelector('.picker [aria-current=date]') || document.querySelector('#month-title');
        if (target) {
          if (!target.hasAttribute('tabindex') && target.tagName !== 'A') target.setAttribute('tabindex', '-1');
          target.focus();
        }
        return true;
      });
  }

  document.addEventListener('click', function (e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    var link = e.target.closest && e.target.closest('.picker .month a[href]');
    if (!link) return;
    var url = new URL(link.href, window.location.href);
    if (url.origin !== window.location.origin) return;
    e.preventDefault();
    // A day: focus goes to its times; a month: to the day chosen in it.
    var isDay = url.searchParams.has('date');
    swap(url.href, isDay ? '#slots-title' : '.picker [aria-current=date]')
      .then(function () {
        window.history.pushState({ picker: true }, '', url.href);
      })
      .catch(function () {
        window.location.assign(url.href);
      });
  });

  window.addEventListener('popstate', function () {
    swap(window.location.href, '.picker [aria-current=date]').catch(function () {
      window.location.reload();
    });
  });
})();
