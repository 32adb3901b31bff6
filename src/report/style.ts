/**
 * The report's inline stylesheet: page, cards, tables and the SVG classes svg.ts emits. Below 900 px
 * the charts' 1280-unit viewBox is drawn at half size or less, so their text gets larger user units
 * (the 800 px screenshot's 11 px ticks were about 6 px on screen).
 */
export const STYLE = `
:root{--bg:#f3f5f8;--card:#fff;--text:#1e293b;--muted:#64748b;--line:#e2e8f0;--grid:#edf0f4;--axis:#94a3b8;--band:#f8fafc;
--c0:#94a3b8;--c1:#3b82f6;--c2:#14b8a6;--c3:#8b5cf6;--c4:#0ea5e9;--c5:#22c55e;--c6:#6366f1;--c7:#06b6d4;
--bad:#dc2626;--bad-bg:#fee2e2;--ok:#15803d;--ok-bg:#dcfce7;--warn:#b45309;--warn-bg:#fef3c7;--hl:#f59e0b;
--cpu:#2563eb;--rss:#7c3aed;--thr:#0d9488;--fds:#c026d3;--vol:#0891b2;--inv:#ea580c;--g0:#4f46e5;--g1:#059669;--g2:#d97706;--g3:#db2777}
@media (prefers-color-scheme:dark){:root{--bg:#0f172a;--card:#1e293b;--text:#e2e8f0;--muted:#94a3b8;--line:#334155;--grid:#273449;
--axis:#64748b;--band:#223047;--bad-bg:#450a0a;--ok-bg:#052e16;--warn-bg:#451a03;--ok:#4ade80;--warn:#fbbf24;--bad:#f87171}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Liberation Sans","DejaVu Sans",sans-serif}
main{max-width:1360px;margin:0 auto;padding:24px 28px 40px}
code,pre,.msg{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}
h1{font-size:22px;margin:0;font-weight:650;letter-spacing:-.01em}
h2{font-size:15px;margin:26px 0 10px;color:var(--muted);text-transform:uppercase;letter-spacing:.06em;font-weight:600}
.titlebar{display:flex;align-items:center;gap:12px}
.badge{font-size:12px;font-weight:700;text-transform:uppercase;letter-spacing:.06em;padding:3px 10px;border-radius:999px}
.badge.ok,.pill.ok{background:var(--ok-bg);color:var(--ok)}.badge.bad,.pill.bad{background:var(--bad-bg);color:var(--bad)}
.badge.warn,.pill.warn{background:var(--warn-bg);color:var(--warn)}
.cmd{margin:8px 0 0}.cmd code{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:4px 8px;display:inline-block;max-width:100%;overflow-wrap:anywhere}
.stats{display:flex;flex-wrap:wrap;gap:10px;margin-top:16px}
.stat{flex:1 1 auto;background:var(--card);border:1px solid var(--line);border-radius:10px;padding:10px 14px;min-width:100px}
.stat .k{font-size:11px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}
.stat.wide .v{font-size:15px}.stat .v{font-size:17px;font-weight:600;white-space:nowrap}.stat .sub{font-size:12px;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:10px;box-shadow:0 1px 2px rgba(15,23,42,.05)}
figure{margin:0 0 10px;padding:8px 6px 6px}figure svg{display:block;width:100%;height:auto}
figcaption{font-size:12px;color:var(--muted);padding:4px 12px 2px}
.key-sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;vertical-align:-1px}
.key-sw.slowest{background:var(--hl)}.key-sw.failed{background:var(--bad)}
.note{background:var(--card);border:1px dashed var(--line);border-radius:10px;padding:12px 16px;color:var(--muted);margin:0 0 10px}
svg text{font-family:inherit;fill:var(--text)}
svg .tick{font-size:11px;fill:var(--muted)}svg .unit{font-style:italic}
svg .grid{stroke:var(--grid);stroke-width:1}svg .axis{stroke:var(--axis);stroke-width:1}
svg .band{fill:var(--band)}
svg .plabel{font-size:13px}svg .plabel.bad{fill:var(--bad);font-weight:600}svg .tree{fill:var(--axis)}
svg .pval{font-size:12px;fill:var(--muted)}svg .pval.in{fill:#fff;font-weight:600}svg .pval.in.total{fill:var(--text)}
svg .bar.total{opacity:.55}
svg .bar.hl{stroke:#b45309;stroke-width:2}
svg .plabel.proc{font-size:12px;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono","DejaVu Sans Mono",monospace}svg .pbar.running{opacity:.75}svg .pbar.other{opacity:.8}
svg .ctitle{font-size:14px;font-weight:650}svg .cnote{font-size:12px;fill:var(--muted)}
svg .line{fill:none;stroke-width:1.6;stroke-linejoin:round}svg .area{stroke:none;opacity:.16}
svg .shade{opacity:.09}svg .shade.failed{opacity:.14}
${[0, 1, 2, 3, 4, 5, 6, 7].map((i) => `.pc${i}{fill:var(--c${i});background:var(--c${i})}`).join('')}
.failed{fill:var(--bad);background:var(--bad)}.slowest{fill:var(--hl);background:var(--hl)}
${['cpu', 'rss', 'thr', 'fds', 'vol', 'inv', 'g0', 'g1', 'g2', 'g3'].map((s) => `.s-${s}{stroke:var(--${s});fill:var(--${s})}`).join('')}
svg path.line{fill:none}svg .endval{font-size:12px;font-weight:600;stroke:none}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:13px}
th{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);text-align:left;font-weight:600;padding:10px 8px;border-bottom:1px solid var(--line);vertical-align:bottom}th span{display:block;font-weight:500}
td{padding:8px;border-bottom:1px solid var(--line);vertical-align:top}
tbody tr:last-child td{border-bottom:0}tbody tr:hover{background:var(--band)}
td.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}
td.name{font-weight:600;white-space:nowrap}tr.bad td.name{color:var(--bad)}
td.err{color:var(--bad);min-width:220px;max-width:320px;overflow-wrap:anywhere;font-size:12px}
.dim{color:var(--muted)}.tree{color:var(--axis)}
.share{display:inline-block;width:60px;height:6px;background:var(--grid);border-radius:3px;margin-right:8px;vertical-align:2px;overflow:hidden}
.share>span{display:block;height:100%}
.pill{display:inline-block;font-size:11px;font-weight:600;padding:1px 8px;border-radius:999px;background:var(--grid);color:var(--text)}
.pill.kind{background:#e0e7ff;color:#3730a3;text-transform:capitalize}
ul.cards{list-style:none;margin:0;padding:0;display:grid;gap:10px}
ul.cards li{padding:12px 16px}.sugg p{margin:8px 0}
.chip{display:inline-block;font-size:12px;background:var(--band);border:1px solid var(--line);border-radius:6px;padding:1px 7px;margin:2px 4px 2px 0}
.chip b{font-weight:600;color:var(--muted)}
.errcard{border-left:4px solid var(--bad)}
pre.msg{margin:8px 0 0;white-space:pre-wrap;overflow-wrap:anywhere;font-size:12.5px;background:var(--band);padding:8px 10px;border-radius:6px}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:6px 18px;padding:12px 16px;margin:0}
dl.meta dt{color:var(--muted);font-weight:600}dl.meta dd{margin:0;overflow-wrap:anywhere;font-family:ui-monospace,Menlo,Consolas,"Liberation Mono",monospace;font-size:12.5px}
footer{margin-top:28px;color:var(--muted);font-size:12px;text-align:center}
@media (max-width:900px){main{padding:16px 12px 32px}svg .tick{font-size:16px}svg .ctitle{font-size:19px}svg .cnote,svg .endval{font-size:16px}}
`;
