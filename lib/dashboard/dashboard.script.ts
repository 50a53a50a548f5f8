/**
 * The console's script, served from the package at `<path>/assets/dashboard.js` (no inline code:
 * the Content-Security-Policy allows scripts from the console's own origin only). It posts the
 * action forms with fetch as JSON with the page's CSRF token in a header (so no urlencoded body
 * parser is needed), opens the bulk confirmation with a fresh count, shows the outcome in the
 * flash region, and refreshes the page's content every data-refresh-ms. Plain ES2017, no library.
 * Written without template literals so it can live in a TypeScript string.
 */
export const DASHBOARD_JS = `(function () {
  'use strict';
  var body = document.body;
  var base = body.getAttribute('data-base');
  var refreshMs = Number(body.getAttribute('data-refresh-ms')) || 0;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute('content') : '';
  var flash = document.getElementById('flash');
  var confirmBox = document.getElementById('bulk-confirm');
  var busy = false;

  function show(message, isError) {
    flash.textContent = message;
    flash.hidden = false;
    flash.classList.toggle('error', !!isError);
  }

  // The bulk actions need this script (it counts, then confirms): shown only once it runs, and again after each refresh.
  function showBulk() {
    document.querySelectorAll('.bulk[hidden]').forEach(function (el) { el.hidden = false; });
  }
  showBulk();

  var saved = sessionStorage.getItem('doctor-job-flash');
  if (saved) {
    sessionStorage.removeItem('doctor-job-flash');
    try { var f = JSON.parse(saved); show(f.message, f.error); } catch (e) { /* ignore */ }
  }

  function formBody(form) {
    var out = {};
    new FormData(form).forEach(function (value, name) {
      if (name === '_csrf' || value === '') return;
      if (name === 'ids') { (out.ids = out.ids || []).push(value); return; }
      out[name] = name === 'all' ? value === 'true' : value;
    });
    return out;
  }

  function readJson(response) {
    return response.text().then(function (text) {
      var data;
      try { data = JSON.parse(text); } catch (e) { data = { message: text || response.statusText }; }
      if (!response.ok) {
        var message = Array.isArray(data.message) ? data.message.join('; ') : data.message;
        throw new Error((message || 'Request failed') + ' (HTTP ' + response.status + ')');
      }
      return data;
    });
  }

  function post(form) {
    busy = true;
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    return fetch(form.getAttribute('action'), {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(formBody(form))
    }).then(readJson).then(function (result) {
      var after = form.getAttribute('data-after');
      if (after) {
        sessionStorage.setItem('doctor-job-flash', JSON.stringify({ message: result.message }));
        location.assign(after);
        return;
      }
      show(result.message, false);
      return refresh();
    }).catch(function (error) {
      show(error.message, true);
    }).then(function () {
      busy = false;
      buttons.forEach(function (b) { b.disabled = false; });
    });
  }

  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!form.hasAttribute('data-action')) return;
    event.preventDefault();
    if (form.closest('#bulk-confirm')) closeConfirm();
    post(form);
  });

  var opener = null;
  function closeConfirm() {
    if (!confirmBox) return;
    confirmBox.hidden = true;
    if (opener && document.body.contains(opener)) opener.focus();
  }

  function openConfirm(button) {
    var holder = button.closest('[data-bulk-fields]');
    var fields = new URLSearchParams(holder.getAttribute('data-bulk-fields'));
    var filterText = (holder.getAttribute('data-filter-text') || '').replace(/^\\((.*)\\)$/, '$1');
    var kind = button.getAttribute('data-bulk');
    var countQuery = new URLSearchParams(fields);
    countQuery.delete('all');
    fetch(base + '/dead-letters/count?' + countQuery.toString(), { headers: { accept: 'application/json' }, credentials: 'same-origin' })
      .then(readJson).then(function (result) {
        var form = confirmBox.querySelector('form');
        form.setAttribute('action', base + '/actions/dead-letters/' + kind);
        var slot = form.querySelector('[data-filter-fields]');
        slot.textContent = '';
        fields.forEach(function (value, name) {
          var input = document.createElement('input');
          input.type = 'hidden'; input.name = name; input.value = value;
          slot.appendChild(input);
        });
        var verb = kind === 'replay' ? 'Replay' : 'Delete';
        var n = result.count;
        var noun = n === 1 ? ' dead letter' : ' dead letters';
        document.getElementById('bulk-confirm-text').textContent = n === 0
          ? 'No dead letter matches ' + (filterText || 'any more') + '.'
          : verb + ' ' + n + noun + (filterText ? ' matching ' + filterText : ' (all of them)') + '?' + (kind === 'delete' ? ' This cannot be undone.' : '');
        var confirm = form.querySelector('[data-testid="confirm"]');
        confirm.textContent = verb + ' ' + n + noun;
        confirm.disabled = n === 0;
        opener = button;
        confirmBox.hidden = false;
        (n === 0 ? form.querySelector('[data-cancel]') : confirm).focus();
      }).catch(function (error) { show(error.message, true); });
  }

  document.addEventListener('click', function (event) {
    var target = event.target.closest('button');
    if (!target) return;
    if (target.hasAttribute('data-bulk')) openConfirm(target);
    else if (target.hasAttribute('data-cancel')) closeConfirm();
  });
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && confirmBox && !confirmBox.hidden) closeConfirm();
  });

  function refresh() {
    return fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' }).then(function (response) {
      if (!response.ok) throw new Error('Auto-refresh stopped: HTTP ' + response.status);
      return response.text();
    }).then(function (html) {
      var next = new DOMParser().parseFromString(html, 'text/html').getElementById('content');
      var content = document.getElementById('content');
      if (!next || !content) return;
      // Focus stays on the same control: found again by its label (unique per row), else by position among its kind.
      var focusables = 'button, a, input, select';
      var keyOf = function (el) { return el.getAttribute('aria-label') || el.id || el.getAttribute('data-testid') || el.name || el.textContent; };
      var active = document.activeElement;
      var key = null;
      var index = 0;
      if (active && content.contains(active)) {
        key = keyOf(active);
        index = Array.prototype.filter.call(content.querySelectorAll(focusables), function (el) { return keyOf(el) === key; }).indexOf(active);
      }
      content.replaceChildren.apply(content, Array.prototype.slice.call(next.childNodes));
      showBulk();
      if (key !== null) {
        var same = Array.prototype.filter.call(content.querySelectorAll(focusables), function (el) { return keyOf(el) === key; });
        var target = same[Math.min(Math.max(index, 0), same.length - 1)];
        if (target) target.focus();
      }
    });
  }

  var toggle = document.getElementById('auto-refresh');
  if (refreshMs > 0) {
    var timer = setInterval(function () {
      if (busy || document.hidden || (toggle && !toggle.checked) || (confirmBox && !confirmBox.hidden)) return;
      var active = document.activeElement;
      if (active && active.closest && active.closest('form.filters')) return;
      refresh().catch(function (error) { clearInterval(timer); show(error.message, true); });
    }, refreshMs);
  }
})();
`;
