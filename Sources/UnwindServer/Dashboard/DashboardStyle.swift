enum DashboardStyle {
    static let css = #"""
    :root { --fg: #1d2330; --muted: #667085; --line: #e3e6ec; --bg: #f6f7f9; --card: #fff; --accent: #2459c4;
            --ok: #1a7f37; --bad: #c4261d; --warn: #a15c00; --info: #2459c4; --idle: #667085; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
    a { color: var(--accent); text-decoration: none; } a:hover { text-decoration: underline; }
    .bar { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #111827; color: #fff; }
    .brand { color: #fff; font-weight: 700; font-size: 18px; letter-spacing: .02em; }
    .token { display: flex; gap: 6px; align-items: center; margin-left: auto; font-size: 13px; }
    .token input { width: 200px; padding: 4px 6px; border-radius: 4px; border: 1px solid #4b5563; background: #1f2937; color: #fff; }
    .token .muted { color: #cbd5e1; }
    button { font: inherit; padding: 4px 10px; border-radius: 4px; border: 1px solid #c7ccd6; background: #fff; cursor: pointer; }
    button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
    button.danger { background: var(--bad); border-color: var(--bad); color: #fff; }
    main { max-width: 1200px; margin: 0 auto; padding: 18px 24px 48px; }
    h1 { font-size: 20px; margin: 4px 0 12px; word-break: break-all; } h2 { font-size: 16px; margin: 24px 0 8px; }
    .muted { color: var(--muted); } .error { color: var(--bad); }
    .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; }
    table { width: 100%; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
    th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
    th { background: #fafbfc; font-weight: 600; color: #475467; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
    td.mono, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
    .filters { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 12px; }
    .filters a { padding: 4px 10px; border-radius: 999px; border: 1px solid var(--line); background: #fff; color: var(--fg); }
    .filters a.active { background: var(--fg); color: #fff; border-color: var(--fg); }
    .filters .count { margin-left: 6px; color: var(--muted); } .filters a.active .count { color: #cbd5e1; }
    .badge { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; color: #fff; background: var(--idle); white-space: nowrap; }
    .s-succeeded, .s-compensated { background: var(--ok); } .s-failed, .s-compensation_failed { background: var(--bad); }
    .s-running, .s-compensating { background: var(--info); } .s-waiting, .s-ready, .s-scheduled { background: var(--warn); }
    .s-cancelled, .s-skipped, .s-pending { background: var(--idle); }
    .meta { display: grid; grid-template-columns: 140px minmax(0, 1fr); gap: 4px 12px; }
    .meta dt { color: var(--muted); } .meta dd { margin: 0; word-break: break-word; }
    details summary { cursor: pointer; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    details[open] summary { margin-bottom: 6px; }
    pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 12.5px; }
    .timeline { list-style: none; margin: 0; padding: 0; border-left: 3px solid var(--line); }
    .timeline > li { position: relative; margin: 0 0 10px 16px; }
    .timeline > li::before { content: ""; position: absolute; left: -24px; top: 14px; width: 11px; height: 11px; border-radius: 50%; background: var(--idle); border: 2px solid var(--bg); }
    .timeline > li.t-succeeded::before { background: var(--ok); } .timeline > li.t-failed::before { background: var(--bad); }
    .timeline > li.t-running::before, .timeline > li.t-waiting::before { background: var(--info); }
    .step-head { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
    .step-name { font-weight: 600; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
    .step-facts { color: var(--muted); font-size: 13px; }
    .durbar { height: 4px; background: #dbe4f7; border-radius: 2px; margin-top: 6px; }
    .durbar span { display: block; height: 4px; background: var(--accent); border-radius: 2px; min-width: 2px; }
    .progress { margin-top: 4px; color: var(--warn); }
    .step-error { margin-top: 6px; padding: 6px 8px; background: #fdecea; border-radius: 4px; color: #8a1c14; }
    .step-error.earlier { background: #f3f4f6; color: var(--muted); }
    .nowrap { white-space: nowrap; } td.details { word-break: break-word; overflow-wrap: anywhere; max-width: 520px; }
    .resources { margin: 6px 0 0; padding-left: 18px; font-size: 13px; }
    .actions { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
    .actions form { display: flex; flex-direction: column; gap: 6px; }
    .actions input[type=text], .actions select { padding: 5px 6px; border: 1px solid #c7ccd6; border-radius: 4px; font: inherit; }
    .notice { margin: 10px 0; padding: 8px 12px; border-radius: 6px; background: #eef4ff; border: 1px solid #c9d8f7; }
    .notice.bad { background: #fdecea; border-color: #f5c2bd; color: #8a1c14; }
    .pager { margin-top: 10px; display: flex; gap: 10px; }
    """#
}
