/** The console's stylesheet, served from the package at `<path>/assets/dashboard.css`. */
export const DASHBOARD_CSS = `:root{--fg:#1b1f24;--muted:#57606a;--bg:#fff;--line:#d0d7de;--accent:#0550ae;--danger:#a40e26;--p:#1a7f37;--f:#bf8700;--d:#cf222e;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#30363d;--accent:#4493f8;--danger:#f85149;--p:#3fb950;--f:#d29922;--d:#f85149}}
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg)}
header{display:flex;flex-wrap:wrap;gap:.5rem 1.25rem;align-items:center;padding:.6rem 1rem;border-bottom:1px solid var(--line)}
nav a{margin-right:.9rem}a{color:var(--accent)}a[aria-current=page]{font-weight:600;text-decoration:none;border-bottom:2px solid var(--accent)}
main{padding:1rem;max-width:90rem}h1{font-size:1.35rem;margin:.2rem 0 .8rem}h2{font-size:1.1rem;margin:1.4rem 0 .5rem}
.skip{position:absolute;left:-999px}.skip:focus{left:.5rem;top:.5rem;background:var(--bg);padding:.3rem}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
thead th{font-size:.85rem;color:var(--muted);font-weight:600}tfoot th,tfoot td{font-weight:600}.scroll{overflow-x:auto}
pre{background:color-mix(in srgb,var(--line) 25%,transparent);padding:.6rem;overflow:auto;max-height:30rem;margin:.3rem 0;font-size:.85rem}
pre.wrap{white-space:pre-wrap;word-break:break-word}td pre{max-height:12rem}.clip{max-width:28rem;overflow-wrap:anywhere}
.muted{color:var(--muted)}.badge{border:1px solid var(--line);border-radius:1rem;padding:0 .6rem;font-size:.8rem}.refresh{margin-left:auto;font-size:.85rem}.sign-out{margin:0}
button{font:inherit;padding:.2rem .7rem;border:1px solid var(--line);border-radius:.3rem;background:var(--bg);color:var(--fg);cursor:pointer}
button:hover{border-color:var(--accent)}button.danger{color:var(--danger)}button:disabled{opacity:.5;cursor:default}
form.inline{display:inline}.filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin-bottom:1rem}
.filters label{display:flex;flex-direction:column;font-size:.85rem;color:var(--muted)}input,select{font:inherit;padding:.2rem .4rem;border:1px solid var(--line);border-radius:.3rem;background:var(--bg);color:var(--fg)}
.fields{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}.fields dt{color:var(--muted)}.fields dd{margin:0;overflow-wrap:anywhere}
.flash{margin:.6rem 1rem 0;padding:.5rem .8rem;border:1px solid var(--accent);border-radius:.3rem}.flash.error{border-color:var(--danger);color:var(--danger)}
.confirm{position:fixed;left:50%;top:20%;transform:translateX(-50%);background:var(--bg);border:2px solid var(--danger);border-radius:.4rem;padding:1rem 1.2rem;max-width:34rem;box-shadow:0 8px 30px #0004}
.pager{margin-top:1rem}.pager a{margin-right:1rem}.legend{font-size:.85rem}.key{display:inline-block;width:.8rem;height:.8rem;vertical-align:middle}
.key.p{background:var(--p)}.key.f{background:var(--f)}.key.d{background:var(--d)}
svg .p{stroke:var(--p)}svg .f{stroke:var(--f)}svg .d{stroke:var(--d)}svg .axis{stroke:var(--line)}svg.chart{max-width:100%;height:auto;display:block}.chart-box{max-width:600px}.ticks{display:flex;justify-content:space-between;margin:.1rem 0;font-size:.75rem;color:var(--muted)}svg.spark{vertical-align:middle}
`;
