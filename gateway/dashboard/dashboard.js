// The campaign dashboard: reads the gateway's JSON routes with the token kept in
// sessionStorage and draws every figure itself, with no library and no build step.
// document.body.dataset.state is "login", "loading", "ready" or "error", so a browser
// test can wait until the page has finished.
"use strict";

const TOKEN_KEY = "aixin.dashboard.token";
const CAMPAIGN_KEY = "aixin.dashboard.campaign";
// Roles that the gateway lets read the cash-out flags.
const FLAG_READERS = new Set(["commerce", "finance", "leading_group"]);
const ROLE_NAMES = {
  admin: "系统管理员", commerce: "区商务局", civil_affairs: "区民政局",
  finance: "区财政局", township: "乡镇（街道）", merchant: "指定商超",
  leading_group: "领导小组",
};
const SVG_NS = "http://www.w3.org/2000/svg";

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `请求失败（HTTP ${status}）`);
    this.status = status;
  }
}

function $(id) {
  return document.getElementById(id);
}

function setState(state) {
  document.body.dataset.state = state;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path) {
  const response = await fetch(path, {
    headers: { Authorization: `Bearer ${sessionStorage.getItem(TOKEN_KEY)}` },
    cache: "no-store",
  });
  let body = null;
  try {
    body = await response.json();
  } catch (ignored) {
    body = null;
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function formatYuan(fen) {
  const sign = fen < 0 ? "-" : "";
  const absolute = Math.abs(fen);
  const yuan = Math.floor(absolute / 100).toLocaleString("en-US");
  return `${sign}${yuan}.${String(absolute % 100).padStart(2, "0")}`;
}

function percent(part, whole) {
  return whole > 0 ? `${((part / whole) * 100).toFixed(1)}%` : "—";
}

// Whole days from the campaign clock's local date to a deadline date (YYYY-MM-DD).
// A deadline lasts until 23:59:59 of its day, so the deadline day itself is 0.
function daysUntil(todayIso, deadlineIso) {
  return Math.round((utcDay(deadlineIso) - utcDay(todayIso)) / 86400000);
}

// Milliseconds of a calendar date (YYYY-MM-DD) at 00:00 UTC, for day arithmetic.
function utcDay(iso) {
  const [year, month, day] = iso.slice(0, 10).split("-").map(Number);
  return Date.UTC(year, month - 1, day);
}

function daysText(days) {
  if (days > 0) return `${days} 天`;
  if (days === 0) return "今天截止";
  return "已截止";
}

function showLogin(message) {
  setState("login");
  $("board").hidden = true;
  $("who").hidden = true;
  $("status").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  const params = new URLSearchParams(location.search);
  $("campaign-input").value =
    sessionStorage.getItem(CAMPAIGN_KEY) || params.get("campaign") || "";
}

function showError(message) {
  setState("error");
  $("status").hidden = true;
  $("error").hidden = false;
  $("error").textContent = message;
}

function figure(label, value, field) {
  const row = element("div", "figure");
  row.append(element("span", "", label));
  const shown = element("span", "", value);
  if (field) shown.dataset.field = field;
  row.append(shown);
  return row;
}

function renderTotals(totals) {
  const box = $("totals");
  box.replaceChildren(
    figure("应发（人）", String(totals.eligible), "eligible"),
    figure("已发放（张）", String(totals.handed_out), "handed_out"),
    figure("已核销（张）", String(totals.redeemed_count), "redeemed_count"),
    figure("核销金额（元）", formatYuan(totals.redeemed_fen), "redeemed_fen"),
    figure("发放率", percent(totals.handed_out, totals.eligible), "handout_rate"),
    figure("核销率", percent(totals.redeemed_count, totals.handed_out), "redemption_rate"),
    figure("未核销（张）", String(totals.unredeemed), "unredeemed"),
    figure("已拨付（元）", formatYuan(totals.allocated_fen), "allocated_fen"),
    flagFigure(totals.open_flags),
  );
}

// Open cash-out flags (raised, not yet resolved by the audit), from the read model.
function flagFigure(count) {
  const row = figure("未关闭标记", String(count || 0), "open_flags");
  if (count > 0) row.classList.add("flagged");
  return row;
}

// One labelled progress bar: "done of whole", its percentage and the deadline's days.
function progress(kind, title, done, whole, doneField, wholeField, dueText, late) {
  const block = element("div", "progress");
  block.dataset.kind = kind;
  const caption = element("div", "caption");
  caption.append(element("span", "", title));
  const numbers = element("span", "numbers");
  const doneNode = element("span", "", String(done));
  doneNode.dataset.field = doneField;
  const wholeNode = element("span", "", String(whole));
  wholeNode.dataset.field = wholeField;
  const rate = element("span", "", percent(done, whole));
  rate.dataset.field = `${kind}_rate`;
  numbers.append(doneNode, " / ", wholeNode, "（", rate, "）");
  caption.append(numbers);
  const bar = element("div", `bar ${kind}`);
  bar.setAttribute("role", "progressbar");
  bar.setAttribute("aria-label", title);
  bar.setAttribute("aria-valuemin", "0");
  bar.setAttribute("aria-valuemax", String(whole));
  bar.setAttribute("aria-valuenow", String(done));
  const fill = element("div");
  fill.style.width = `${whole > 0 ? Math.min(100, (done / whole) * 100) : 0}%`;
  bar.append(fill);
  block.append(caption, bar, element("div", late ? "due late" : "due", dueText));
  return block;
}

function renderTownships(rows, config, today) {
  const festivalDays = daysUntil(today, config.spring_festival);
  const redemptionDays = daysUntil(today, config.redemption_deadline);
  const cards = rows.map((row) => {
    const card = element("article", "card township");
    card.dataset.code = row.code;
    const heading = element("h3", "", row.name);
    heading.append(element("small", "", row.code));
    card.append(heading);
    const missing = row.eligible - row.handed_out;
    const handoutDue = festivalDays >= 0
      ? `春节 ${config.spring_festival}，还有 ${daysText(festivalDays)}；尚有 ${Math.max(0, missing)} 张未发放`
      : `春节 ${config.spring_festival} 已过；尚有 ${Math.max(0, missing)} 张未发放`;
    card.append(progress("handout", "发放进度", row.handed_out, row.eligible,
      "handed_out", "eligible", handoutDue, festivalDays < 0 && missing > 0));
    const redeemDue = redemptionDays >= 0
      ? `核销截止 ${config.redemption_deadline}，还有 ${daysText(redemptionDays)}；尚有 ${row.unredeemed} 张未核销`
      : `核销截止 ${config.redemption_deadline} 已过；${row.unredeemed} 张未核销`;
    card.append(progress("redemption", "核销进度", row.redeemed_count, row.handed_out,
      "redeemed_count", "handed_out", redeemDue,
      redemptionDays < 0 && row.unredeemed > 0));
    card.append(figure("核销金额（元）", formatYuan(row.redeemed_fen), "redeemed_fen"));
    card.append(flagFigure(row.open_flags));
    return card;
  });
  $("townships").replaceChildren(...cards);
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) node.textContent = text;
  return node;
}

// A line chart of the running totals per day, with the two deadlines marked.
function renderChart(days, config) {
  const box = $("chart");
  if (days.length === 0) {
    box.replaceChildren(element("p", "note", "暂无发放或核销记录。"));
    return;
  }
  const width = 640;
  const height = 260;
  const margin = { left: 44, right: 12, top: 16, bottom: 30 };
  const first = Math.min(utcDay(days[0].date), utcDay(config.spring_festival));
  const last = Math.max(utcDay(days[days.length - 1].date), utcDay(config.redemption_deadline));
  const top = Math.max(1, ...days.map((day) => day.issued_total - day.voided_total));
  const x = (iso) => margin.left
    + ((utcDay(iso) - first) / Math.max(1, last - first)) * (width - margin.left - margin.right);
  const y = (value) => height - margin.bottom
    - (value / top) * (height - margin.top - margin.bottom);

  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "累计发放与核销张数" });
  for (let step = 0; step <= 4; step += 1) {
    const value = Math.round((top * step) / 4);
    chart.append(svg("line", { class: "grid", x1: margin.left, x2: width - margin.right,
      y1: y(value), y2: y(value) }));
    chart.append(svg("text", { class: "tick", x: margin.left - 6, y: y(value) + 4,
      "text-anchor": "end" }, String(value)));
  }
  chart.append(svg("line", { class: "axis", x1: margin.left, x2: width - margin.right,
    y1: height - margin.bottom, y2: height - margin.bottom }));
  const firstIso = new Date(first).toISOString().slice(0, 10);
  const lastIso = new Date(last).toISOString().slice(0, 10);
  for (const [iso, anchor] of [[firstIso, "start"], [lastIso, "end"]]) {
    chart.append(svg("text", { class: "tick", x: x(iso), y: height - 10,
      "text-anchor": anchor }, iso.slice(5)));
  }
  for (const [iso, label] of [[config.spring_festival, "春节"],
    [config.redemption_deadline, "核销截止"]]) {
    chart.append(svg("line", { class: "marker", x1: x(iso), x2: x(iso),
      y1: margin.top, y2: height - margin.bottom }));
    chart.append(svg("text", { class: "marker-label", x: x(iso) - 3, y: margin.top + 10,
      "text-anchor": "end" }, label));
  }
  const series = [
    ["handout", (day) => day.issued_total - day.voided_total],
    ["redeemed", (day) => day.redeemed_count_total],
  ];
  for (const [kind, value] of series) {
    const points = days.map((day) => `${x(day.date).toFixed(1)},${y(value(day)).toFixed(1)}`);
    chart.append(svg("polyline", { class: `line ${kind}`, points: points.join(" "),
      "data-series": kind, "data-last": value(days[days.length - 1]) }));
  }
  box.replaceChildren(chart);
}

function renderFlags(role, flags) {
  const list = $("flags");
  list.replaceChildren();
  if (!FLAG_READERS.has(role)) {
    $("flag-count").textContent = "";
    $("flag-count").hidden = true;
    $("flags-note").textContent = "可疑标记仅区商务局、区财政局和领导小组可查看。";
    return;
  }
  $("flag-count").textContent = String(flags.flags.length);
  $("flag-count").hidden = false;
  $("flag-count").dataset.field = "flag_count";
  $("flags-note").textContent = flags.flags.length === 0
    ? `已检查 ${flags.redemptions_checked} 笔核销，暂无可疑标记。`
    : `已检查 ${flags.redemptions_checked} 笔核销，以下情况请在审核前核实：`;
  for (const flag of flags.flags) {
    const item = element("li");
    item.append(element("span", "rule", `${flag.label}：`), flag.explanation);
    list.append(item);
  }
}

async function load() {
  const campaign = sessionStorage.getItem(CAMPAIGN_KEY);
  const base = `/v1/campaigns/${encodeURIComponent(campaign)}`;
  setState("loading");
  $("login").hidden = true;
  $("error").hidden = true;
  $("status").hidden = false;
  try {
    const who = await api("/v1/whoami");
    $("who").hidden = false;
    $("who-text").textContent = `${ROLE_NAMES[who.role] || who.role} · ${who.name}`;
    const [clock, summary, series, flags] = await Promise.all([
      api("/v1/clock"),
      api(`${base}/summary`),
      api(`${base}/timeseries`),
      FLAG_READERS.has(who.role) ? api(`${base}/cashout-flags`) : Promise.resolve(null),
    ]);
    const config = summary.config;
    const today = clock.now.slice(0, 10);
    $("title").textContent = `${config.name} 进度看板`;
    $("today").textContent = today;
    $("days-festival").textContent = daysText(daysUntil(today, config.spring_festival));
    $("festival-date").textContent = config.spring_festival;
    $("days-redemption").textContent = daysText(daysUntil(today, config.redemption_deadline));
    $("redemption-date").textContent = config.redemption_deadline;
    $("totals-title").textContent =
      who.role === "township" ? "本乡镇（街道）合计" : "全区合计";
    renderTotals(summary.totals);
    renderTownships(summary.townships, config, today);
    renderChart(series.days, config);
    renderFlags(who.role, flags);
    $("status").hidden = true;
    $("board").hidden = false;
    setState("ready");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showLogin("令牌无效或已被撤销，请重新输入。");
      return;
    }
    if (error instanceof ApiError && error.status === 403) {
      showError("您的角色无权查看本看板：请使用区直部门、乡镇（街道）或管理员的令牌。");
      return;
    }
    if (error instanceof ApiError && error.status === 404) {
      showError(`未找到活动 ${campaign}，或您无权查看：请核对活动编号后重新登录。`);
      return;
    }
    showError(`加载失败：${error.message}。请稍后刷新页面重试。`);
  }
}

function start() {
  $("login").addEventListener("submit", (event) => {
    event.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("token-input").value.trim());
    sessionStorage.setItem(CAMPAIGN_KEY, $("campaign-input").value.trim());
    $("token-input").value = "";
    load();
  });
  $("logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("");
  });
  if (sessionStorage.getItem(TOKEN_KEY) && sessionStorage.getItem(CAMPAIGN_KEY)) {
    load();
  } else {
    showLogin("");
  }
}

start();
