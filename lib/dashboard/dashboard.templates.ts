/**
 * The console's pages as Eta templates (auto-escaping on: `<%= %>` escapes for text and
 * double-quoted attributes; `<%~ %>` is used only for HTML the views built from escaped parts).
 * Kept as strings so the CommonJS build carries them without copying files. Nothing inline runs:
 * no <script> body, no style attribute, no on* handler (the Content-Security-Policy forbids them).
 */
export const TEMPLATES: Record<string, string> = {
  '@layout': `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="csrf-token" content="<%= it.csrf %>">
<title><%= it.title %> · Doctor Job</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="<%= it.base %>/assets/dashboard.css?v=<%= it.assetVersion %>">
<script src="<%= it.base %>/assets/dashboard.js?v=<%= it.assetVersion %>" defer></script>
</head>
<body data-base="<%= it.base %>" data-refresh-ms="<%= it.refreshMs %>">
<a class="skip" href="#content">Skip to content</a>
<header><strong class="brand">Doctor Job</strong>
<nav aria-label="Console"><a href="<%= it.base %>"<% if (it.nav === 'overview') { %> aria-current="page"<% } %>>Overview</a>
<a href="<%= it.base %>/jobs"<% if (it.nav === 'jobs') { %> aria-current="page"<% } %>>Jobs</a>
<a href="<%= it.base %>/dead-letters"<% if (it.nav === 'dead-letters') { %> aria-current="page"<% } %>>Dead letters</a></nav>
<% if (it.readOnly) { %><span class="badge">read-only</span><% } %>
<% if (it.refreshMs > 0) { %><label class="refresh"><input type="checkbox" id="auto-refresh" checked> Auto-refresh every <%= it.refreshMs / 1000 %> s</label><% } %>
<% if (it.signOutUrl) { %><form class="sign-out" method="post" action="<%= it.signOutUrl %>"><button type="submit" data-testid="sign-out">Sign out</button></form><% } %>
</header>
<div id="flash" class="flash" data-testid="flash" role="status" aria-live="polite"<% if (!it.flash) { %> hidden<% } %>><%= it.flash || '' %></div>
<main id="content" tabindex="-1"><%~ it.body %></main>
<% if (!it.readOnly && it.csrf) { %><div id="bulk-confirm" class="confirm" role="dialog" aria-modal="false" aria-labelledby="bulk-confirm-text" hidden>
<form method="post" data-action><input type="hidden" name="_csrf" value="<%= it.csrf %>"><span data-filter-fields></span>
<p id="bulk-confirm-text"></p>
<button type="submit" class="danger" data-testid="confirm">Confirm</button> <button type="button" data-cancel>Cancel</button></form></div><% } %>
</body></html>`,

  '@action': `<form method="post" action="<%= it.base %>/actions/<%= it.action %>" data-action<% if (it.after) { %> data-after="<%= it.after %>"<% } %> class="inline">
<input type="hidden" name="_csrf" value="<%= it.csrf %>"><% for (const [name, value] of it.fields) { %><input type="hidden" name="<%= name %>" value="<%= value %>"><% } %>
<button type="submit" data-testid="<%= it.testid %>"<% if (it.danger) { %> class="danger"<% } %><% if (it.label2) { %> aria-label="<%= it.label2 %>"<% } %>><%= it.label %></button></form>`,

  '@history': `<h2>Attempt history</h2>
<% if (it.history.length === 0) { %><p class="muted">No failed attempt recorded.</p><% } else { %>
<div class="scroll"><table><thead><tr><th scope="col">Job id</th><th scope="col">Attempt</th><th scope="col">Failed at</th><th scope="col">Error</th></tr></thead><tbody>
<% for (const a of it.history) { %><tr><td><%= a.jobId %></td><td><%= a.attempt %></td><td><%~ it.h.time(a.failedAt) %></td>
<td><pre class="wrap"><%= a.errorMessage %></pre><% if (a.errorStack) { %><details><summary>Stack</summary><pre><%= a.errorStack %></pre></details><% } %></td></tr><% } %>
</tbody></table></div><% } %>`,

  '@pager': `<nav class="pager" aria-label="Pages"><% if (it.first) { %><a href="<%= it.first %>">First page</a><% } %><% if (it.next) { %> <a href="<%= it.next %>" rel="next">Next page</a><% } %></nav>`,

  '@overview': `<h1>Overview</h1>
<section aria-labelledby="activity-title"><h2 id="activity-title">Last hour on this instance</h2>
<p class="muted">Processed, failed (retried later) and dead-lettered attempts per minute, counted from this instance's lifecycle events since it started at <%~ it.h.time(it.startedAt) %>; other instances' work is not in it.</p>
<div class="chart-box"><%~ it.chart %><p class="ticks" aria-hidden="true"><span>60 min ago</span><span>now</span></p></div>
<p class="legend"><span class="key p"></span> processed <%= it.last.processed %> <span class="key f"></span> failed <%= it.last.failed %> <span class="key d"></span> dead-lettered <%= it.last.deadLettered %></p></section>
<section aria-labelledby="types-title"><h2 id="types-title">Job types</h2>
<% if (it.rows.length === 0) { %><p class="muted">No jobs, dead letters or pauses yet.</p><% } else { %>
<div class="scroll"><table><thead><tr><th scope="col">Type</th><th scope="col">Due</th><th scope="col">Scheduled</th><th scope="col">Running</th><th scope="col">Paused</th><th scope="col">Dead letters</th><th scope="col">Oldest due</th><th scope="col">Last hour (processed / failed / dead-lettered)</th><% if (!it.readOnly) { %><th scope="col">Action</th><% } %></tr></thead><tbody>
<% for (const r of it.rows) { %><tr data-testid="type-row-<%= r.type %>">
<th scope="row"><a href="<%= it.base %>/jobs?type=<%= encodeURIComponent(r.type) %>"><%= r.type %></a></th>
<td><a href="<%= it.base %>/jobs?state=due&amp;type=<%= encodeURIComponent(r.type) %>"><%= r.due %></a></td>
<td><a href="<%= it.base %>/jobs?state=scheduled&amp;type=<%= encodeURIComponent(r.type) %>"><%= r.scheduled %></a></td>
<td><a href="<%= it.base %>/jobs?state=running&amp;type=<%= encodeURIComponent(r.type) %>"><%= r.running %></a></td>
<td data-testid="paused"><%= r.paused ? 'paused' : 'no' %></td>
<td><a href="<%= it.base %>/dead-letters?type=<%= encodeURIComponent(r.type) %>"><%= r.deadLetters %></a></td>
<td><%= r.oldestDue %></td>
<td><%~ r.spark %> <%= r.last.processed %> / <%= r.last.failed %> / <%= r.last.deadLettered %></td>
<% if (!it.readOnly) { %><td><%~ r.action %></td><% } %></tr><% } %>
</tbody><tfoot><tr><th scope="row">All types</th><td><%= it.totals.due %></td><td><%= it.totals.scheduled %></td><td><%= it.totals.running %></td><td><%= it.pausedCount %></td><td><%= it.totals.deadLetters %></td><td></td><td><%= it.last.processed %> / <%= it.last.failed %> / <%= it.last.deadLettered %></td><% if (!it.readOnly) { %><td></td><% } %></tr></tfoot></table></div><% } %></section>`,

  '@jobs': `<h1>Jobs in the queue</h1>
<form method="get" action="<%= it.base %>/jobs" class="filters" role="search" aria-label="Filter jobs">
<label>State <select name="state"><% for (const s of ['', 'due', 'scheduled', 'running']) { %><option value="<%= s %>"<% if ((it.q.state || '') === s) { %> selected<% } %>><%= s || 'any' %></option><% } %></select></label>
<label>Type <input name="type" value="<%= it.q.type || '' %>"></label>
<label>Ordering key <input name="orderingKey" value="<%= it.q.orderingKey || '' %>"></label>
<label>Dedup key <input name="dedupKey" value="<%= it.q.dedupKey || '' %>"></label>
<label>Per page <input name="limit" inputmode="numeric" size="4" value="<%= it.q.limit || '' %>" placeholder="50"></label>
<button type="submit">Filter</button> <a href="<%= it.base %>/jobs">Clear</a></form>
<% if (it.items.length === 0) { %><p class="muted">No job matches.</p><% } else { %>
<div class="scroll"><table><thead><tr><th scope="col">Id</th><th scope="col">Type</th><th scope="col">State</th><th scope="col">Attempts</th><th scope="col">Run at</th><th scope="col">Ordering key</th><th scope="col">Dedup key</th><th scope="col">Held by</th><th scope="col">Last error</th><% if (!it.readOnly) { %><th scope="col">Actions</th><% } %></tr></thead><tbody>
<% for (const j of it.items) { %><tr data-testid="job-row-<%= j.id %>"><td><a href="<%= it.base %>/jobs/<%= j.id %>"><%= j.id %></a></td><td><%= j.type %></td><td><%= j.state %><% if (j.typePaused) { %> <span class="badge" data-testid="type-paused">type paused</span><% } %></td><td><%= j.attempts %> / <%= j.maxAttempts %></td><td><%~ it.h.time(j.runAt) %></td><td><%= j.orderingKey || '' %></td><td><%= j.dedupKey || '' %></td><td><% if (j.state === 'running') { %><%= j.lockedBy || 'unknown' %><% if (j.claimedAt) { %> since <%~ it.h.time(j.claimedAt) %><% } %><% } %></td><td class="clip"><%= it.h.clip(j.lastError) %></td>
<% if (!it.readOnly) { %><td><%~ j.actions %></td><% } %></tr><% } %>
</tbody></table></div><% } %>
<%~ it.pager %>`,

  '@job': `<h1>Job <%= it.job.id %></h1>
<dl class="fields">
<dt>Type</dt><dd><%= it.job.type %></dd><dt>State</dt><dd><%= it.job.state %><% if (it.typePaused) { %> <span class="badge" data-testid="type-paused">type paused</span> <span class="muted">no runner claims it until its type is resumed (<a href="<%= it.base %>">Overview</a>)</span><% } %></dd>
<dt>Attempts</dt><dd><%= it.job.attempts %> of <%= it.job.maxAttempts %></dd><dt>Priority</dt><dd><%= it.job.priority %></dd>
<dt>Run at</dt><dd><%~ it.h.time(it.job.runAt) %></dd><dt>Created at</dt><dd><%~ it.h.time(it.job.createdAt) %></dd>
<dt>Ordering key</dt><dd><%= it.job.orderingKey || '—' %></dd><dt>Dedup key</dt><dd><%= it.job.dedupKey || '—' %></dd>
<dt>Lease until</dt><dd><%~ it.job.lockedUntil ? it.h.time(it.job.lockedUntil) : '—' %></dd><dt>Held by</dt><dd><%= it.job.lockedBy || '—' %></dd>
<dt>Claimed at</dt><dd><%~ it.job.claimedAt ? it.h.time(it.job.claimedAt) : '—' %></dd>
<dt>Replay of</dt><dd><%= it.job.replayOf || '—' %></dd></dl>
<% if (!it.readOnly) { %><p class="actions"><%~ it.actions %></p><% } %>
<h2>Payload</h2><pre data-testid="payload"><%= it.payload %></pre>
<h2>Last error</h2><% if (it.job.lastError) { %><pre data-testid="error" class="wrap"><%= it.job.lastError %></pre><% } else { %><p class="muted">None.</p><% } %>
<%~ it.history %>`,

  '@dead-letters': `<h1>Dead letters</h1>
<form method="get" action="<%= it.base %>/dead-letters" class="filters" role="search" aria-label="Filter dead letters">
<label>Type <input name="type" value="<%= it.q.type || '' %>"></label>
<label>Reason <select name="reason"><% for (const r of it.reasons) { %><option value="<%= r %>"<% if ((it.q.reason || '') === r) { %> selected<% } %>><%= r || 'any' %></option><% } %></select></label>
<label>Failed after <input name="failedAfter" value="<%= it.q.failedAfter || '' %>" placeholder="2026-12-01T08:00:00Z"></label>
<label>Failed before <input name="failedBefore" value="<%= it.q.failedBefore || '' %>" placeholder="2026-12-01T09:00:00Z"></label>
<label>Per page <input name="limit" inputmode="numeric" size="4" value="<%= it.q.limit || '' %>" placeholder="50"></label>
<button type="submit">Filter</button> <a href="<%= it.base %>/dead-letters">Clear</a></form>
<p><strong data-testid="match-count"><%= it.count %></strong> dead letter<%= it.count === 1 ? '' : 's' %> match<%= it.count === 1 ? 'es' : '' %><%= it.filterText ? ' ' + it.filterText : '' %>.</p>
<% if (!it.readOnly && it.count > 0) { %><p class="bulk" hidden data-bulk-fields="<%= it.bulkFields %>" data-filter-text="<%= it.filterText %>">
<button type="button" data-testid="bulk-replay" data-bulk="replay">Replay all <%= it.count %> matching…</button>
<button type="button" data-testid="bulk-delete" data-bulk="delete" class="danger">Delete all <%= it.count %> matching…</button></p><% } %>
<% if (it.items.length > 0) { %>
<div class="scroll"><table><thead><tr><th scope="col">Id</th><th scope="col">Type</th><th scope="col">Reason</th><th scope="col">Attempts</th><th scope="col">Failed at</th><th scope="col">Error</th><% if (!it.readOnly) { %><th scope="col">Actions</th><% } %></tr></thead><tbody>
<% for (const d of it.items) { %><tr data-testid="dead-letter-row-<%= d.id %>"><td><a href="<%= it.base %>/dead-letters/<%= d.id %>"><%= d.id %></a></td><td><%= d.type %></td><td><%= d.reason %></td><td><%= d.attempts %> / <%= d.maxAttempts %></td><td><%~ it.h.time(d.failedAt) %></td><td class="clip"><%= it.h.clip(d.errorMessage) %></td>
<% if (!it.readOnly) { %><td><%~ d.actions %></td><% } %></tr><% } %>
</tbody></table></div><% } %>
<%~ it.pager %>`,

  '@dead-letter': `<h1>Dead letter <%= it.letter.id %></h1>
<dl class="fields">
<dt>Type</dt><dd><%= it.letter.type %></dd><dt>Reason</dt><dd><%= it.letter.reason %></dd>
<dt>Attempts</dt><dd><%= it.letter.attempts %> of <%= it.letter.maxAttempts %></dd><dt>Failed at</dt><dd><%~ it.h.time(it.letter.failedAt) %></dd>
<dt>Job id</dt><dd><%= it.letter.jobId %></dd><dt>Created at</dt><dd><%~ it.h.time(it.letter.createdAt) %></dd>
<dt>Replay of</dt><dd><%= it.letter.replayOf || '—' %></dd></dl>
<% if (!it.readOnly) { %><p class="actions"><%~ it.actions %></p><% } %>
<h2>Payload</h2><pre data-testid="payload"><%= it.payload %></pre>
<h2>Error</h2><pre data-testid="error" class="wrap"><%= it.letter.errorMessage %></pre>
<h2>Stack</h2><% if (it.letter.errorStack) { %><pre data-testid="stack"><%= it.letter.errorStack %></pre><% } else { %><p class="muted">No stack recorded.</p><% } %>
<%~ it.history %>`,

  '@message': `<h1><%= it.heading %></h1><p data-testid="<%= it.testid %>"><%= it.message %></p><p><a href="<%= it.back %>"><%= it.backLabel || 'Back' %></a></p>`,
};
