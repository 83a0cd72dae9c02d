// `butler demo --merchants wecom`: the merchant pane becomes each merchant's chat with the WeCom app.
// It reads the same event stream as sim.js and draws only the wc.* events; sim.js keeps the rest.
"use strict";

const wecom = {userid: "", events: [], cards: new Map()};  // card_id -> latest card

function wcName(userid) {
  const m = (state.cast.merchants || []).find((x) => x.wecom_userid === userid);
  return m ? m.name : userid;
}

function wcRow(ev) {
  const mine = ev.kind === "wc.in" || ev.kind === "wc.press";
  const row = el("div", `row ${mine ? "me" : "them"}`);
  if (mine) {
    row.append(el("div", "bubble", ev.kind === "wc.press" ? `［点了「${ev.button}」］` : ev.text));
    return row;
  }
  const card = wecom.cards.get(ev.card_id) || ev;
  const bubble = el("div", ev.msgtype === "template_card" ? "bubble wc-card" : "bubble");
  bubble.dataset.testid = ev.msgtype === "template_card" ? "wc-card" : "wc-text";
  bubble.dataset.card = ev.card_id;
  fillWcCard(bubble, card, ev.msgtype);
  row.append(bubble);
  return row;
}

function fillWcCard(bubble, card, msgtype) {
  bubble.replaceChildren(el("div", "wc-body", msgtype === "image" ? "［图片］" : card.text));
  if (msgtype !== "template_card") return;
  const buttons = el("div", "wc-buttons");
  for (const b of card.buttons || []) {
    const btn = el("button", "", b.text);
    btn.type = "button";
    btn.addEventListener("click", () => api("/sim/api/wecom/press", {userid: wecom.userid, card_id: bubble.dataset.card, key: b.key}));
    buttons.append(btn);
  }
  if (card.label) buttons.append(el("span", "wc-label", card.label));
  bubble.append(buttons);
}

function wcRender() {
  const log = $("wecom-log");
  log.replaceChildren(...wecom.events.filter((ev) => ev.userid === wecom.userid && ev.kind !== "wc.update").map(wcRow));
  scrollDown(log);
}

function wcHandle(ev) {
  if (!ev.kind || !ev.kind.startsWith("wc.")) return;
  if (ev.kind === "wc.message" || ev.kind === "wc.update") wecom.cards.set(ev.card_id, ev);
  if (ev.kind === "wc.update") {
    document.querySelectorAll(`#wecom-log [data-card="${CSS.escape(ev.card_id)}"]`).forEach((b) => fillWcCard(b, ev, "template_card"));
    return;
  }
  wecom.events.push(ev);
  if (ev.userid === wecom.userid) { $("wecom-log").append(wcRow(ev)); scrollDown($("wecom-log")); }
}

async function wcMain() {
  const cast = await (await fetch("/sim/api/cast")).json();
  if (cast.merchant_channel !== "wecom") return;
  document.querySelector('[data-testid="merchant-pane"]').hidden = true;
  $("tour-start").hidden = true;  // the guided tour plays the Telegram merchant group
  document.querySelector('[data-testid="wecom-pane"]').hidden = false;
  const select = $("wecom-select");
  select.replaceChildren(...cast.merchants.map((m) => {
    const opt = el("option", "", m.name);
    opt.value = m.wecom_userid;
    return opt;
  }));
  wecom.userid = cast.merchants[0].wecom_userid;
  select.addEventListener("change", (e) => { wecom.userid = e.target.value; wcRender(); });
  $("wecom-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("wecom-text").value.trim();
    if (!text) return;
    $("wecom-text").value = "";
    api("/sim/api/wecom/say", {userid: wecom.userid, text});
  });
  const source = new EventSource("/sim/api/events");
  source.onmessage = (msg) => wcHandle(JSON.parse(msg.data));
  document.body.dataset.wecom = "1";
}

wcMain();
