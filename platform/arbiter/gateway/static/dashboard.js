/* Arbiter dashboard: draws the figures the page carries inline (#dashboard-data) with Chart.js.
   Text from the data is only ever set as textContent, never parsed as HTML. */
(function () {
  "use strict";
  const PALETTE = ["#2b6cb0", "#dd6b20", "#2f855a", "#9f7aea", "#c53030", "#319795", "#b7791f", "#4a5568"];
  const data = JSON.parse(document.getElementById("dashboard-data").textContent);
  const root = document.getElementById("dashboard");
  const charts = [];

  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.font.size = 12;

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (k === "text") node.textContent = v; else if (k === "cls") node.className = v; else node.setAttribute(k, v);
    });
    (children || []).forEach((c) => node.appendChild(typeof c === "string" ? document.createTextNode(c) : c));
    return node;
  }
  const pct = (v) => (v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%");
  const num = (v, d) => (v === null || v === undefined ? "–" : Number(v).toFixed(d === undefined ? 4 : d));
  const signed = (v, d) => (v === null || v === undefined ? "–" : (v >= 0 ? "+" : "") + Number(v).toFixed(d === undefined ? 4 : d));
  const count = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en"));

  function card(title, wide) {
    const box = el("div", { cls: "card" + (wide ? " wide" : "") }, [el("h3", { text: title })]);
    return box;
  }
  function empty(box, message) { box.appendChild(el("p", { cls: "empty", text: message })); return box; }

  function chartCard(title, id, config, hasData, emptyMessage, wide) {
    const box = card(title, wide);
    if (!hasData) return empty(box, emptyMessage);
    const canvas = el("canvas", { id: id, "data-chart": id, role: "img", "aria-label": title });
    box.appendChild(el("div", { cls: "chart" }, [canvas]));
    box.addEventListener("arbiter:draw", () => charts.push(new Chart(canvas, config)), { once: true });
    return box;
  }

  function table(headers, rows, classes) {
    const head = el("tr", {}, headers.map((h, i) => el("th", { text: h, cls: (classes && classes[i]) || "" })));
    const body = rows.map((r) => el("tr", {}, r.map((cell, i) => {
      const td = el("td", { cls: (classes && classes[i]) || "" });
      if (cell && typeof cell === "object") { td.textContent = cell.text; if (cell.cls) td.className += " " + cell.cls; }
      else td.textContent = cell === null || cell === undefined ? "–" : String(cell);
      return td;
    })));
    return el("table", {}, [el("thead", {}, [head]), el("tbody", {}, body)]);
  }

  function modelColors(section) {
    const ids = new Set();
    if (section.champion) ids.add(section.champion.model_id);
    section.comparison.forEach((r) => ids.add(r.challenger_id));
    Object.keys(section.roc).forEach((m) => ids.add(m));
    section.histograms.forEach((r) => ids.add(r.model_id));
    section.daily.forEach((r) => ids.add(r.model_id));
    section.reasons.forEach((r) => ids.add(r.model_id));
    const colors = {};
    Array.from(ids).sort().forEach((m, i) => { colors[m] = PALETTE[i % PALETTE.length]; });
    return colors;
  }

  function trapezoid(fpr, tpr) {
    let area = 0;
    for (let i = 1; i < fpr.length; i++) area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2;
    return area;
  }

  function rocChart(section, colors, key) {
    const models = Object.keys(section.roc).sort();
    const datasets = models.map((m) => {
      const c = section.roc[m];
      return { label: m + "  AUC≈" + trapezoid(c.fpr, c.tpr).toFixed(3), borderColor: colors[m], backgroundColor: colors[m],
               data: c.fpr.map((x, i) => ({ x: x, y: c.tpr[i] })), showLine: true, pointRadius: 0, borderWidth: 2 };
    });
    datasets.push({ label: "chance", data: [{ x: 0, y: 0 }, { x: 1, y: 1 }], showLine: true, pointRadius: 0,
                    borderColor: "#a0aec0", borderDash: [4, 4], borderWidth: 1 });
    const labelled = models.reduce((n, m) => n + section.roc[m].positives + section.roc[m].negatives, 0);
    return chartCard("ROC curves (mature labelled applications)", "roc-" + key, {
      type: "scatter", data: { datasets: datasets },
      options: { scales: { x: { min: 0, max: 1, title: { display: true, text: "false positive rate" } },
                           y: { min: 0, max: 1, title: { display: true, text: "true positive rate" } } } },
    }, labelled > 0 && models.some((m) => section.roc[m].positives > 0 && section.roc[m].negatives > 0),
    "no mature labelled applications with both classes yet");
  }

  function histogramChart(section, colors, key) {
    const models = Array.from(new Set(section.histograms.map((r) => r.model_id))).sort();
    const labels = Array.from({ length: 20 }, (_, b) => (b / 20).toFixed(2));
    const datasets = models.map((m) => {
      const rows = section.histograms.filter((r) => r.model_id === m);
      const total = rows.reduce((n, r) => n + r.applications, 0) || 1;
      const shares = labels.map((_, b) => { const r = rows.find((x) => x.bin === b); return r ? r.applications / total : 0; });
      return { label: m, data: shares, backgroundColor: colors[m] + "cc", borderColor: colors[m], borderWidth: 1 };
    });
    return chartCard("Score distribution (share of applications per bin of 0.05)", "hist-" + key, {
      type: "bar", data: { labels: labels, datasets: datasets },
      options: { scales: { x: { title: { display: true, text: "score from" } },
                           y: { title: { display: true, text: "share" }, beginAtZero: true } } },
    }, models.length > 0, "no scores yet");
  }

  function dailyChart(section, colors, key, title, series, yTitle, yMax) {
    const days = Array.from(new Set(section.daily.map((r) => r.day))).sort();
    const models = Array.from(new Set(section.daily.map((r) => r.model_id))).sort();
    const datasets = [];
    models.forEach((m) => series.forEach((s) => {
      const byDay = {};
      section.daily.filter((r) => r.model_id === m).forEach((r) => { byDay[r.day] = r[s.field]; });
      datasets.push({ label: m + (series.length > 1 ? " " + s.name : ""), data: days.map((d) => (d in byDay ? byDay[d] : null)),
                      borderColor: colors[m], backgroundColor: colors[m], borderDash: s.dash || [], spanGaps: true,
                      pointRadius: 2, borderWidth: 2 });
    }));
    const hasData = datasets.some((d) => d.data.some((v) => v !== null));
    return chartCard(title, key, {
      type: "line", data: { labels: days, datasets: datasets },
      options: { scales: { y: { min: 0, max: yMax, title: { display: true, text: yTitle } } } },
    }, hasData, series[0].field === "roc_auc" ? "no day has mature labels of both classes yet" : "no decisions yet");
  }

  function coverageCard(section, key) {
    const rows = section.coverage;
    const box = chartCard("Shadow coverage (applications published to each challenger)", "coverage-" + key, {
      type: "bar",
      data: { labels: rows.map((r) => r.model_id), datasets: [
        { label: "scored", data: rows.map((r) => r.scored), backgroundColor: "#2f855a" },
        { label: "dead-lettered", data: rows.map((r) => r.dead_lettered), backgroundColor: "#c53030" },
        { label: "pending", data: rows.map((r) => r.pending), backgroundColor: "#b7791f" }] },
      options: { indexAxis: "y", scales: { x: { stacked: true, beginAtZero: true }, y: { stacked: true } } },
    }, rows.length > 0, "no challenger has been in shadow mode");
    if (rows.length) {
      box.appendChild(table(["challenger", "status", "published", "scored", "dead", "pending", "lag s"],
        rows.map((r) => [r.model_id, r.status, count(r.published), count(r.scored), count(r.dead_lettered),
                         count(r.pending), num(r.lag_seconds, 1)]), ["text", "text"]));
    }
    return box;
  }

  function comparisonCard(section) {
    const box = card("Champion against challengers (paired on the same applications)", true);
    if (!section.comparison.length) return empty(box, "no challenger has scored the applications the champion decided");
    box.appendChild(table(
      ["challenger", "recipe", "paired", "agreement", "+decline", "-decline", "+approve", "-approve", "score corr",
       "labelled", "immature", "challenger AUC", "champion AUC", "delta AUC"],
      section.comparison.map((r) => [r.challenger_id, r.challenger_recipe, count(r.paired), pct(r.agreement_rate),
        count(r.challenger_would_decline), count(r.challenger_would_not_decline), count(r.challenger_would_approve),
        count(r.challenger_would_not_approve), num(r.score_correlation, 3), count(r.labelled), count(r.immature),
        num(r.challenger_auc), num(r.champion_auc),
        { text: signed(r.auc_delta), cls: r.auc_delta === null ? "" : r.auc_delta >= 0 ? "better" : "worse" }]),
      ["text", "text"]));
    return box;
  }

  function driftCard(section) {
    const box = card("Drift: population stability index on the latest day, against the training reference");
    if (!section.drift.length) return empty(box, "no model with a drift reference has scored anything yet");
    box.appendChild(table(["model", "variable", "day", "applications", "PSI", "status"],
      section.drift.map((r) => [r.model_id, r.variable, r.day, count(r.applications), num(r.psi, 3),
                                { text: r.status, cls: "status-" + r.status }]), ["text", "text", "text"]));
    return box;
  }

  function gateLines(gates) {
    return Object.entries(gates || {}).map(([name, g]) =>
      (g.passed ? "\u2713 " : "\u2717 ") + name + (g.detail ? ": " + g.detail : "")).join("\n");
  }

  const SWAPS = { challenger_declines: "champion approved, challenger declines",
                  challenger_approves: "champion declined, challenger approves" };

  function swapCard(section) {
    const box = card("Swap sets: what each challenger would decide the other way (mature labels)", true);
    if (!section.comparison.length) return empty(box, "no challenger has scored the applications the champion decided");
    const rows = [];
    section.comparison.forEach((r) => {
      const recall = pct(r.challenger_recall) + " vs " + pct(r.champion_recall) + " (at " + pct(r.champion_decline_rate) + ")";
      (r.swap_sets.length ? r.swap_sets : [null]).forEach((s) => rows.push(s === null
        ? [r.challenger_id, "none", "0", "–", "–", "–", "–", "–", recall]
        : [r.challenger_id, SWAPS[s.swap], count(s.applications), count(s.labelled), count(s.frauds),
           num(s.fraud_amount, 2), count(s.false_declines),
           { text: signed(s.cost_difference, 0), cls: s.cost_difference <= 0 ? "better" : "worse" }, recall]));
    });
    box.appendChild(table(["challenger", "swap set", "applications", "labelled", "frauds", "fraud amount",
                           "false declines", "cost difference", "recall at champion's decline rate"], rows,
                          ["text", "text"]));
    return box;
  }

  function fairnessCard(section) {
    const box = card("Fairness: approval by age band and region (disparity: lowest approval rate over highest)", true);
    if (!section.fairness.length) return empty(box, "no application with an age band or region recorded");
    box.appendChild(table(["model", "dimension", "group", "applications", "approval", "decline", "fraud caught",
                           "disparity"],
      section.fairness.map((r) => [r.model_id, r.dimension, r.segment, count(r.applications), pct(r.approval_rate),
        pct(r.decline_rate), pct(r.fraud_caught_rate),
        { text: num(r.disparity_ratio, 3), cls: r.disparity_ratio !== null && r.disparity_ratio < 0.8 ? "worse" : "" }]),
      ["text", "text", "text"]));
    return box;
  }

  function reasonsChart(section, colors, key) {
    const features = [];
    section.reasons.forEach((m) => m.overall.forEach((r) => { if (!features.includes(r.label)) features.push(r.label); }));
    const config = {
      type: "bar",
      data: {
        labels: features,
        datasets: section.reasons.map((m) => ({
          label: m.model_id, backgroundColor: colors[m.model_id] || PALETTE[0],
          data: features.map((f) => { const r = m.overall.find((x) => x.label === f); return r ? r.share : 0; }),
        })),
      },
      options: { indexAxis: "y", scales: { x: { min: 0, max: 1, title: { display: true, text: "share of declines and reviews naming it" } } } },
    };
    return chartCard("Top reasons of declines and reviews, per model (explanations)", "reasons-" + key, config,
                     features.length > 0, "no explained decline or review yet", true);
  }

  function reasonsCard(section) {
    const box = card("Top reasons per model and day (declines and reviews)", true);
    const rows = [];
    section.reasons.forEach((m) => m.days.forEach((d) => rows.push([d.day, m.model_id, count(d.decisions),
      { text: d.reasons.map((r) => r.label + " " + pct(r.share)).join(" · "), cls: "text" }])));
    if (!rows.length) return empty(box, "no explained decline or review yet");
    rows.sort((a, b) => (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
    box.appendChild(table(["day", "model", "declines + reviews", "reasons named (share of them)"], rows,
                          ["text", "text", "", "text"]));
    return box;
  }

  function disagreementCard(section) {
    const box = card("Where challenger and champion disagree, and why (the inputs each side named)", true);
    if (!section.disagreements.length) return empty(box, "no application decided differently by a challenger and the champion");
    const why = (list) => ({ text: list.map((r) => r.label + " (" + count(r.named) + ")").join(" · ") || "–", cls: "text" });
    box.appendChild(table(["challenger", "champion", "challenger says", "champion says", "applications",
                           "challenger's reasons", "champion's reasons"],
      section.disagreements.map((r) => [r.challenger_id, r.champion_id, r.challenger_decision, r.champion_decision,
        count(r.applications), why(r.challenger_reasons), why(r.champion_reasons)]),
      ["text", "text", "text", "text", "", "text", "text"]));
    return box;
  }

  // the strategy simulator: the champion's fine bins (data.json `simulator`), cut at the two thresholds
  // as arbiter/domain/simulation.py cuts them (a bin whose lower edge is at or above a threshold is in)
  function simulateBins(sim, review, decline) {
    const b = sim.bins, parts = { applications: [0, 0, 0], frauds: [0, 0, 0], legit: [0, 0, 0],
                                   fraud_amount: [0, 0, 0], fraud_without_amount: [0, 0, 0] };
    for (let i = 0; i < b.low.length; i++) {
      const k = b.low[i] >= decline ? 2 : b.low[i] >= review ? 1 : 0;
      Object.keys(parts).forEach((name) => { parts[name][k] += b[name][i]; });
    }
    const total = parts.applications[0] + parts.applications[1] + parts.applications[2];
    const frauds = parts.frauds[0] + parts.frauds[1] + parts.frauds[2];
    const labelled = frauds + parts.legit[0] + parts.legit[1] + parts.legit[2];
    const days = Math.max(sim.days, 1);
    const cost = parts.fraud_amount[0] + parts.fraud_without_amount[0] * sim.costs.missed_fraud_cost +
      parts.legit[2] * sim.costs.false_decline_cost;
    return {
      approve_rate: total ? parts.applications[0] / total : null, review_rate: total ? parts.applications[1] / total : null,
      decline_rate: total ? parts.applications[2] / total : null, reviews_per_day: parts.applications[1] / days,
      frauds_declined: parts.frauds[2], frauds_reviewed: parts.frauds[1], frauds_missed: parts.frauds[0],
      fraud_amount_declined: parts.fraud_amount[2], false_declines: parts.legit[2],
      fraud_caught_rate: frauds ? (parts.frauds[1] + parts.frauds[2]) / frauds : null,
      expected_cost: labelled ? cost : null,
    };
  }

  function simulatorCard(section, key) {
    const sim = section.simulator;
    const box = card("Strategy simulator: drag the thresholds (champion, " +
                     (sim ? "since " + sim.since : "last 30 days") + "; reviewed frauds count as caught)", true);
    if (!sim || !sim.bins.low.length) return empty(box, "no scored application in the window to simulate on");
    const slider = (name, value) => el("input", { type: "range", min: "0", max: "1", step: "0.005", value: String(value),
                                                  id: "sim-" + name + "-" + key, "aria-label": name + " threshold" });
    const review = slider("review", sim.review_threshold), decline = slider("decline", sim.decline_threshold);
    const shown = el("span", { cls: "sim-thresholds" });
    const figures = el("div", { cls: "sim-figures", id: "sim-figures-" + key });
    box.appendChild(el("div", { cls: "sim-controls" }, [el("label", { text: "review " }), review,
                                                         el("label", { text: " decline " }), decline, shown]));
    box.appendChild(figures);
    const canvas = el("canvas", { id: "sim-curve-" + key, "data-chart": "sim-" + key, role: "img",
                                  "aria-label": "expected cost as the decline threshold moves" });
    box.appendChild(el("div", { cls: "chart" }, [canvas]));
    let chart = null;
    const now = simulateBins(sim, sim.review_threshold, sim.decline_threshold);
    function update() {
      let r = Number(review.value), d = Number(decline.value);
      if (r > d) { r = d; review.value = String(d); }
      const f = simulateBins(sim, r, d);
      shown.textContent = " review " + r.toFixed(3) + " · decline " + d.toFixed(3);
      figures.textContent = "";
      figures.appendChild(table(["", "approve", "review", "decline", "frauds caught", "fraud amount declined",
                                 "false declines", "reviews / day", "expected cost"],
        [["in force", pct(now.approve_rate), pct(now.review_rate), pct(now.decline_rate), pct(now.fraud_caught_rate),
          num(now.fraud_amount_declined, 0), count(now.false_declines), num(now.reviews_per_day, 1), num(now.expected_cost, 0)],
         ["simulated", pct(f.approve_rate), pct(f.review_rate), pct(f.decline_rate), pct(f.fraud_caught_rate),
          num(f.fraud_amount_declined, 0), count(f.false_declines), num(f.reviews_per_day, 1),
          { text: num(f.expected_cost, 0), cls: f.expected_cost !== null && now.expected_cost !== null &&
            f.expected_cost <= now.expected_cost ? "better" : "worse" }]], ["text"]));
      const xs = [], ys = [];
      for (let i = 0; i <= 50; i++) { const t = r + (1 - r) * i / 50; xs.push(t); ys.push(simulateBins(sim, r, t).expected_cost); }
      const data = { labels: xs.map((x) => x.toFixed(3)), datasets: [
        { label: "expected cost (review at " + r.toFixed(3) + ")", data: ys, borderColor: PALETTE[0], pointRadius: 0 },
        { label: "decline threshold", data: xs.map((x) => (Math.abs(x - d) <= (1 - r) / 100 ? f.expected_cost : null)),
          borderColor: PALETTE[4], backgroundColor: PALETTE[4], pointRadius: 5, showLine: false }] };
      if (chart) { chart.data = data; chart.update("none"); }
      return data;
    }
    const first = update();
    box.addEventListener("arbiter:draw", () => {
      chart = new Chart(canvas, { type: "line", data: first, options: { scales: {
        x: { title: { display: true, text: "decline threshold" }, ticks: { maxTicksLimit: 11 } },
        y: { title: { display: true, text: "expected cost" } } } } });
      charts.push(chart);
      update();
    }, { once: true });
    review.addEventListener("input", update);
    decline.addEventListener("input", update);
    return box;
  }

  function promotionsCard(section) {
    const box = card("Promotion history (audit trail)", true);
    if (!section.promotions.length) return empty(box, "no promotion or rollback on record");
    box.appendChild(table(["when", "action", "model", "previous", "outcome", "actor", "reason", "gates"],
      section.promotions.map((r) => [r.created_at.slice(0, 19).replace("T", " "), r.action, r.model_id,
        r.previous_model_id, { text: outcome(r), cls: r.accepted && !(r.forced && !r.reviewed_by) ? "" : "refused" },
        r.actor, { text: r.reason, cls: "text" }, { text: gateLines(r.gates), cls: "text gates" }]),
      ["text", "text", "text", "text", "text", "text", "text", "text"]));
    return box;
  }

  function outcome(r) {
    if (r.forced) return r.reviewed_by ? "forced, reviewed by " + r.reviewed_by : "forced, not yet reviewed";
    if (r.status && r.status !== "accepted" && r.status !== "refused") {
      return r.status + (r.decided_by ? " by " + r.decided_by : "");  // a four-eyes request
    }
    return r.accepted ? "accepted" : "refused";
  }

  function governanceSection(g) {
    const when = (t) => String(t).slice(0, 19).replace("T", " ");
    const waiting = card("Waiting for a governance decision", true);
    const total = g.reviews.length + g.requests.length + g.proposals.length;
    if (!total) empty(waiting, "nothing is waiting: no model to review, no promotion request, no proposal");
    if (g.reviews.length) {
      waiting.appendChild(el("h4", { text: "models to review (arbiter models review ID)" }));
      waiting.appendChild(table(["model", "detector", "recipe", "registered by", "registered"],
        g.reviews.map((r) => [r.id, r.detector, r.recipe, r.registered_by, when(r.registered_at)]), ["text", "text", "text", "text", "text"]));
    }
    if (g.requests.length) {
      waiting.appendChild(el("h4", { text: "promotion requests (arbiter promotions approve ID)" }));
      waiting.appendChild(table(["request", "detector", "model", "requested by", "reason", "at"],
        g.requests.map((r) => [r.id, r.detector, r.model_id, r.actor, { text: r.reason, cls: "text" }, when(r.created_at)]),
        ["text", "text", "text", "text", "text", "text"]));
    }
    if (g.proposals.length) {
      waiting.appendChild(el("h4", { text: "strategy and rules proposals (arbiter proposals approve ID)" }));
      waiting.appendChild(table(["proposal", "kind", "for", "proposed by", "note", "at"],
        g.proposals.map((r) => [r.id, r.kind, r.model_id || r.detector, r.proposed_by, { text: r.note, cls: "text" }, when(r.proposed_at)]),
        ["text", "text", "text", "text", "text", "text"]));
    }
    const trail = card("Audit trail (latest events; arbiter audit verify checks the chain)", true);
    if (!g.audit.length) empty(trail, "no event on record");
    else trail.appendChild(table(["#", "when", "actor", "action", "subject"],
      g.audit.map((r) => [r.id, when(r.at), r.actor, r.action, r.subject]), ["text", "text", "text", "text", "text"]));
    return el("section", { cls: "governance", id: "governance" }, [el("h2", { text: "Governance" }),
                                                                  el("div", { cls: "grid" }, [waiting, trail])]);
  }

  function summary(section) {
    const c = section.champion;
    if (!c) return "no champion now";
    return "champion " + c.model_id + " (" + c.recipe + "): " + count(c.decided) + " decided, approve " + pct(c.approve_rate) +
      " · review " + pct(c.review_rate) + " · decline " + pct(c.decline_rate) + ", " + count(c.labelled) + " labelled";
  }

  function render() {
    root.textContent = "";
    document.getElementById("generated").textContent = "Generated " + data.generated_at.slice(0, 19).replace("T", " ") + " UTC.";
    const select = document.getElementById("detector-filter");
    data.detectors.forEach((s) => select.appendChild(el("option", { value: s.detector, text: s.detector })));
    if (data.detector) select.value = data.detector;
    if (!data.detectors.length) {
      root.appendChild(el("p", { cls: "empty", text: "Nothing recorded yet: score some applications (arbiter replay) and come back." }));
    }
    data.detectors.forEach((section, i) => {
      const key = "d" + i;
      const colors = modelColors(section);
      const grid = el("div", { cls: "grid" }, [
        comparisonCard(section),
        swapCard(section),
        rocChart(section, colors, key),
        histogramChart(section, colors, key),
        dailyChart(section, colors, "auc-" + key, "Daily ROC-AUC (mature labels)", [{ field: "roc_auc", name: "AUC" }], "ROC-AUC", 1),
        dailyChart(section, colors, "rates-" + key, "Daily decision rates (decline solid, review dashed)",
                   [{ field: "decline_rate", name: "decline" }, { field: "review_rate", name: "review", dash: [5, 4] }], "share", undefined),
        coverageCard(section, key),
        driftCard(section),
        ...(section.detector === "card-applications" || section.fairness.length ? [fairnessCard(section)] : []),
        simulatorCard(section, key),
        reasonsChart(section, colors, key),
        reasonsCard(section),
        disagreementCard(section),
        promotionsCard(section),
      ]);
      root.appendChild(el("section", { cls: "detector", "data-detector": section.detector },
                          [el("h2", { text: section.detector }), el("p", { cls: "summary", text: summary(section) }), grid]));
    });
    if (data.governance) root.appendChild(governanceSection(data.governance));
    document.querySelectorAll(".card").forEach((box) => box.dispatchEvent(new Event("arbiter:draw")));
    window.arbiterCharts = charts;
    document.body.dataset.ready = "true";
  }

  render();
})();
