// The simulator page: three panes fed by one server-sent event stream. Plain JS, no dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  cast: null,
  events: [],          // every event seen, in order (the panes are views of it)
  owner: "", merchant: 0, staff: 0,
  merchantTab: "group",
  replyTo: null,       // staff reply target {message_id, text}
  tgCards: new Map(),  // "chat:message" -> latest {text, buttons}
  dmUnread: 0,
  unread: new Map(),   // openid -> messages to owners not on screen
};

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

async function api(path, body) {
  const resp = await fetch(path, {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body || {}),
  });
  if (!resp.ok) toast(`请求失败 ${resp.status}: ${await resp.text()}`);
  return resp.ok ? resp.json() : null;
}

let toastTimer = null;
function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, 3500);
}

function scrollDown(log) { log.scrollTop = log.scrollHeight; }

// ---- people pickers -------------------------------------------------------------------------

function ownerLabel(o) {
  const where = o.community ? `${o.community} ${o.building}-${o.unit}-${o.room}` : "新关注";
  return `${o.name}（${where}${o.bound ? "，已绑定" : "，演示开始时未绑定"}）`;
}

function fillPickers() {
  const ownerSel = $("owner-select");
  const owners = el("optgroup");
  owners.label = "业主";
  owners.append(...state.cast.owners.map((o) => {
    const opt = el("option", "", ownerLabel(o));
    opt.value = o.openid;
    return opt;
  }));
  // Staff also follow the account: on WeChat they can type the same commands (/broadcast …).
  const staff = el("optgroup");
  staff.label = "员工（在微信里发命令）";
  staff.append(...state.cast.staff.map((m) => {
    const opt = el("option", "", `${m.name}（员工·微信）`);
    opt.value = m.openid;
    return opt;
  }));
  ownerSel.replaceChildren(owners, staff);
  ownerSel.value = state.owner;
  $("merchant-select").replaceChildren(...state.cast.merchants.map((m) => {
    const opt = el("option", "", m.name + (m.expired ? "（资质过期）" : "") + " · " + m.services.join("、"));
    opt.value = m.telegram_id;
    return opt;
  }));
  $("merchant-select").value = state.merchant;
  $("staff-select").replaceChildren(...state.cast.staff.map((s) => {
    const opt = el("option", "", `${s.name}（${s.role === "admin" ? "管理员" : "员工"}）`);
    opt.value = s.telegram_id;
    return opt;
  }));
  $("staff-select").value = state.staff;
  renderMenu(state.cast.menu);
}

function renderMenu(menu) {
  const nav = $("owner-menu");
  nav.replaceChildren();
  const click = (b) => api("/sim/api/wechat/event",
    {openid: state.owner, event: "CLICK", key: b.key || "", label: `点击菜单「${b.name}」`});
  for (const button of (menu && menu.button) || []) {
    const top = el("div", "wx-menu-item");
    const b = el("button", "", button.name);
    b.type = "button";
    top.append(b);
    const subs = button.sub_button || [];
    if (subs.length) {
      b.textContent = `≡ ${button.name}`;
      const pop = el("div", "wx-submenu");
      pop.hidden = true;
      for (const sub of subs) {
        const sb = el("button", "", sub.name);
        sb.type = "button";
        sb.addEventListener("click", () => { pop.hidden = true; click(sub); });
        pop.append(sb);
      }
      top.append(pop);
      b.addEventListener("click", () => {
        const open = pop.hidden;
        nav.querySelectorAll(".wx-submenu").forEach((p) => { p.hidden = true; });
        pop.hidden = !open;
      });
    } else {
      b.addEventListener("click", () => click(button));
    }
    nav.append(top);
  }
}

// ---- owner pane -----------------------------------------------------------------------------

function ownerRow(ev) {
  if (ev.kind === "owner.in") {
    if (ev.event && ev.event !== "CLICK") return el("div", "sys", ev.text || ev.event);
    const row = el("div", "row me");
    row.append(el("div", "bubble", ev.event === "CLICK" ? (ev.text || `菜单 ${ev.key}`) : ev.text));
    return row;
  }
  const row = el("div", "row them");
  row.dataset.via = ev.via;
  if (ev.via === "template" || ev.via === "news") {
    const card = el("div", "notice");
    card.append(el("div", "title", ev.title || "服务通知"), el("div", "body", ev.text));
    card.append(el("div", "foot", ev.via === "template" ? "服务通知 · 模板消息" : "图文消息"));
    row.append(card);
  } else {
    row.append(el("div", "bubble", ev.text));
    const via = {passive: "", cs: "客服消息", mass: "群发"}[ev.via] || "";
    if (via) row.append(el("div", "via", via));
  }
  return row;
}

function renderOwner() {
  const log = $("owner-log");
  log.replaceChildren(...state.events.filter(isOwnerEvent).map(ownerRow));
  scrollDown(log);
}

function showOwner(openid) {
  state.owner = openid;
  $("owner-select").value = openid;
  state.unread.delete(openid);
  renderUnread();
  renderOwner();
}

function renderUnread() {
  const box = $("owner-unread");
  const names = new Map([...state.cast.owners, ...state.cast.staff].map((o) => [o.openid, o.name]));
  const entries = [...state.unread.entries()].slice(-4);
  box.replaceChildren(...entries.map(([openid, count]) => {
    const b = el("button", "small ghost", `${names.get(openid) || openid} ${count}`);
    b.type = "button";
    b.title = "切换到这位业主";
    b.addEventListener("click", () => showOwner(openid));
    return b;
  }));
  box.hidden = entries.length === 0;
  if (state.unread.size > entries.length) box.append(el("span", "", `等 ${state.unread.size} 位`));
}

function isOwnerEvent(ev) {
  return (ev.kind === "owner.in" || ev.kind === "owner.out") && ev.openid === state.owner;
}

// ---- Telegram panes -------------------------------------------------------------------------

function castName(id) {
  const who = [...state.cast.merchants, ...state.cast.staff].find((p) => p.telegram_id === id);
  return who ? who.name : String(id);
}

function tgRow(ev, paneName) {
  const key = `${ev.chat_id}:${ev.message_id}`;
  if (ev.kind === "tg.in" || ev.kind === "tg.press") {
    const row = el("div", "row me");
    row.append(el("div", "who", ev.name));
    const bubble = el("div", "bubble", ev.kind === "tg.press" ? `［按了「${ev.button}」］` : ev.text);
    if (ev.reply_to) {
      const quoted = state.tgCards.get(`${ev.chat_id}:${ev.reply_to}`);
      bubble.prepend(el("div", "quote", quoted ? quoted.text.slice(0, 60) : "…"));
    }
    row.append(bubble);
    return row;
  }
  const row = el("div", "row them");
  row.dataset.key = key;
  row.dataset.testid = "tg-card";
  row.append(el("div", "who", "物业管家机器人"));
  row.append(el("div", "bubble"));
  row.append(el("div", "keyboard"));
  fillCard(row, state.tgCards.get(key) || ev, paneName);
  return row;
}

function fillCard(row, card, paneName) {
  const bubble = row.querySelector(".bubble");
  bubble.replaceChildren();
  if (card.photo) {
    const img = el("img");
    img.src = card.photo;
    img.alt = "图表";
    bubble.append(img);
  }
  bubble.append(document.createTextNode(card.text || ""));
  if (card.edited) bubble.append(el("span", "edited", "已编辑"));
  const [chatId, messageId] = row.dataset.key.split(":").map(Number);
  const kb = row.querySelector(".keyboard");
  kb.replaceChildren(...(card.buttons || []).map((buttons) => {
    const krow = el("div", "krow");
    for (const b of buttons) {
      const btn = el("button", b.data.startsWith("http") ? "link" : "", b.text);
      btn.type = "button";
      btn.addEventListener("click", () => press(paneName, chatId, messageId, b.data));
      krow.append(btn);
    }
    return krow;
  }));
  if (paneName === "staff" && !row.querySelector(".reply-btn")) {
    const reply = el("button", "reply-btn", "↩ 回复");
    reply.type = "button";
    reply.addEventListener("click", () => {
      state.replyTo = {message_id: messageId, text: (state.tgCards.get(row.dataset.key) || card).text};
      $("staff-replying").hidden = false;
      $("staff-replying").querySelector("span").textContent = state.replyTo.text.slice(0, 40);
      $("staff-text").focus();
    });
    row.append(reply);
  }
}

function press(paneName, chatId, messageId, data) {
  if (data.startsWith("http")) { toast(`链接：${data}`); return; }
  const user = paneName === "staff" ? state.staff : state.merchant;
  api("/sim/api/telegram/press", {user_id: user, chat_id: chatId, message_id: messageId, data});
}

function merchantVisible(ev) {
  if (!ev.kind.startsWith("tg.") || ev.kind === "tg.alert" || ev.kind === "tg.edit") return false;
  if (state.merchantTab === "group") return ev.pane === "group";
  return ev.pane === "merchant_dm" && (ev.chat_id === state.merchant || ev.user_id === state.merchant);
}

function staffVisible(ev) {
  if (!ev.kind.startsWith("tg.") || ev.kind === "tg.alert" || ev.kind === "tg.edit") return false;
  return ev.pane === "staff" || (ev.pane === "staff_dm" && ev.chat_id === state.staff);
}

function renderMerchant() {
  const log = $("merchant-log");
  log.replaceChildren(...state.events.filter(merchantVisible).map((ev) => tgRow(ev, "merchant")));
  scrollDown(log);
  const dm = state.merchantTab === "dm";
  $("merchant-chat-title").textContent = dm ? `与 物业管家机器人 的私聊（${castName(state.merchant)}）` : "物业管家·商家群";
  $("merchant-chat-sub").textContent = dm ? "只有你能看到：接单后的业主联系方式等" : "机器人 + 4 位商家";
  $("merchant-text").placeholder = dm ? "回复机器人（如本单金额 120）" : "在商家群里发言";
}

function renderStaff() {
  const log = $("staff-log");
  log.replaceChildren(...state.events.filter(staffVisible).map((ev) => tgRow(ev, "staff")));
  scrollDown(log);
}

// ---- the event stream -----------------------------------------------------------------------

function handle(ev) {
  state.events.push(ev);
  switch (ev.kind) {
    case "owner.in":
    case "owner.out":
      if (isOwnerEvent(ev)) { $("owner-log").append(ownerRow(ev)); scrollDown($("owner-log")); }
      else if (ev.kind === "owner.out") { state.unread.set(ev.openid, (state.unread.get(ev.openid) || 0) + 1); renderUnread(); }
      break;
    case "owner.new":
      state.cast.owners.push(ev.owner);
      fillPickers();
      break;
    case "wechat.menu":
      state.cast.menu = ev.menu;
      renderMenu(ev.menu);
      break;
    case "tg.message":
    case "tg.in":
    case "tg.press":
      if (ev.kind === "tg.message") state.tgCards.set(`${ev.chat_id}:${ev.message_id}`, ev);
      appendTg(ev);
      break;
    case "tg.edit": {
      const key = `${ev.chat_id}:${ev.message_id}`;
      const card = {...(state.tgCards.get(key) || {}), text: ev.text, buttons: ev.buttons, edited: true};
      state.tgCards.set(key, card);
      document.querySelectorAll(`[data-key="${key}"]`).forEach((row) =>
        fillCard(row, card, row.closest(".staff") ? "staff" : "merchant"));
      break;
    }
    case "tg.delete":
      state.tgCards.delete(`${ev.chat_id}:${ev.message_id}`);
      document.querySelectorAll(`[data-key="${ev.chat_id}:${ev.message_id}"]`).forEach((row) => row.remove());
      break;
    case "tg.alert":
      toast(ev.text);
      break;
    case "tour":
      showTour(ev);
      break;
    case "error":
      toast(`${ev.where} 返回 ${ev.status}：${ev.text}`);
      break;
  }
}

function appendTg(ev) {
  if (merchantVisible(ev)) { $("merchant-log").append(tgRow(ev, "merchant")); scrollDown($("merchant-log")); }
  else if (ev.pane === "merchant_dm" && ev.kind === "tg.message") {
    state.dmUnread += 1;
    $("dm-badge").textContent = state.dmUnread;
    $("dm-badge").hidden = false;
  }
  if (staffVisible(ev)) { $("staff-log").append(tgRow(ev, "staff")); scrollDown($("staff-log")); }
}

function showTour(ev) {
  const caption = $("tour-caption");
  const step = ev.total ? `［${ev.index}/${ev.total}］` : "";
  caption.textContent = step + ev.caption;
  caption.classList.toggle("failed", ev.state === "failed");
  const running = ev.state === "running";
  $("tour-start").disabled = running;
  $("tour-stop").hidden = !running;
  if (running && ev.openid && ev.openid !== state.owner) showOwner(ev.openid);
  if (running && ev.merchant && ev.merchant !== state.merchant) { state.merchant = ev.merchant; $("merchant-select").value = ev.merchant; renderMerchant(); }
  if (running && ev.merchant_tab && ev.merchant_tab !== state.merchantTab) setMerchantTab(ev.merchant_tab);
}

function connect() {
  const source = new EventSource("/sim/api/events");
  source.onopen = () => { $("conn-dot").classList.add("on"); $("conn-text").textContent = "已连接"; };
  source.onerror = () => { $("conn-dot").classList.remove("on"); $("conn-text").textContent = "重连中…"; };
  source.onmessage = (msg) => handle(JSON.parse(msg.data));
}

function setMerchantTab(tab) {
  state.merchantTab = tab;
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("active", t.dataset.tab === tab));
  if (tab === "dm") { state.dmUnread = 0; $("dm-badge").hidden = true; }
  renderMerchant();
}

// ---- wiring ---------------------------------------------------------------------------------

function wire() {
  $("owner-select").addEventListener("change", (e) => showOwner(e.target.value));
  $("merchant-select").addEventListener("change", (e) => { state.merchant = Number(e.target.value); renderMerchant(); });
  $("staff-select").addEventListener("change", (e) => { state.staff = Number(e.target.value); renderStaff(); });
  document.querySelectorAll(".tab").forEach((t) => t.addEventListener("click", () => setMerchantTab(t.dataset.tab)));
  $("owner-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("owner-text").value.trim();
    if (!text) return;
    $("owner-text").value = "";
    api("/sim/api/wechat/text", {openid: state.owner, text});
  });
  $("owner-new").addEventListener("click", async () => {
    const name = prompt("新业主的称呼", "新业主") || "新业主";
    const owner = await api("/sim/api/wechat/new-owner", {name});
    if (owner) showOwner(owner.openid);
  });
  $("merchant-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("merchant-text").value.trim();
    if (!text) return;
    $("merchant-text").value = "";
    const chat = state.merchantTab === "group" ? state.cast.merchant_chat_id : state.merchant;
    api("/sim/api/telegram/say", {user_id: state.merchant, chat_id: chat, text});
  });
  $("staff-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("staff-text").value.trim();
    if (!text) return;
    $("staff-text").value = "";
    const reply = state.replyTo ? state.replyTo.message_id : null;
    clearReply();
    api("/sim/api/telegram/say", {user_id: state.staff, chat_id: state.cast.staff_chat_id, text, reply_to: reply});
  });
  $("staff-reply-cancel").addEventListener("click", clearReply);
  const commands = [
    "/help", "/broadcast 小区=翠苑 标签=有车 | 本周六上午地下车库免费洗车", `/report ${state.cast.today}`, "/orders", "/broadcasts",
  ];
  for (const cmd of commands) {
    const chip = el("button", "", cmd.length > 18 ? cmd.slice(0, 18) + "…" : cmd);
    chip.type = "button";
    chip.title = cmd;
    chip.addEventListener("click", () => { $("staff-text").value = cmd; $("staff-text").focus(); });
    $("staff-chips").append(chip);
  }
  $("tour-start").addEventListener("click", () => api("/sim/api/tour/start"));
  $("tour-stop").addEventListener("click", () => api("/sim/api/tour/stop"));
}

function clearReply() {
  state.replyTo = null;
  $("staff-replying").hidden = true;
}

async function main() {
  state.cast = await (await fetch("/sim/api/cast")).json();
  const params = new URLSearchParams(location.search);
  state.owner = params.get("owner") || state.cast.owners[0].openid;
  state.merchant = Number(params.get("merchant")) || state.cast.merchants[0].telegram_id;
  state.staff = state.cast.staff[0].telegram_id;
  fillPickers();
  wire();
  connect();
  document.body.dataset.ready = "1";
}

main();
