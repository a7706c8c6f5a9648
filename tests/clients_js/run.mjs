// Calls every method of the npm client `mailpit-api` against a running catcher and prints what each
// returned, as JSON, for tests/web/test_clients_npm.py to check.
//
//   node run.mjs CATCHER_URL WELCOME_ID INVOICE_ID CSV_PART_ID PNG_PART_ID
//
// Each step is {"ok": true, "value": ...} or {"ok": false, "error": "..."}; a Blob is given as
// {"type", "size", "text"} (text only for text types).
import { MailpitClient } from "mailpit-api";

const [url, welcome, invoice, csvPart, pngPart] = process.argv.slice(2);
const client = new MailpitClient(url);
const results = {};
const quick = { timeout: 3000, interval: 50 };

async function shown(value) {
  if (value instanceof Blob) {
    const text = value.type.startsWith("text/") ? await value.text() : null;
    return { type: value.type, size: value.size, text };
  }
  return value;
}

async function step(name, call) {
  try {
    results[name] = { ok: true, value: await shown(await call()) };
  } catch (error) {
    results[name] = { ok: false, error: String(error instanceof Error ? error.message : error) };
  }
}

await step("getInfo", () => client.getInfo());
await step("getConfiguration", () => client.getConfiguration());
await step("listMessages", () => client.listMessages());
await step("listMessages(1,1)", () => client.listMessages(1, 1));
await step("searchMessages", () => client.searchMessages({ query: "subject:Invoice" }));
await step("waitForMessage", () => client.waitForMessage({ query: "subject:Welcome" }, quick));
await step("waitForMessages", () => client.waitForMessages({ count: 2 }, quick));
await step("waitForMessages(query,exact)", () =>
  client.waitForMessages({ query: "from:billing@example.com", count: 1, exact: true }, quick),
);
await step("waitForMessages(timeout)", () => client.waitForMessages({ query: "subject:never-sent", count: 1 }, { timeout: 200, interval: 50 }));
await step("getMessageSummary(latest)", () => client.getMessageSummary());
await step("getMessageSummary", () => client.getMessageSummary(welcome));
await step("getMessageHeaders", () => client.getMessageHeaders(welcome));
await step("getMessageSource", () => client.getMessageSource(welcome));
await step("getMessageAttachment", () => client.getMessageAttachment(invoice, csvPart));
await step("getAttachmentThumbnail", () => client.getAttachmentThumbnail(invoice, pngPart));
await step("renderMessageHTML", () => client.renderMessageHTML(invoice));
await step("renderMessageText", () => client.renderMessageText(welcome));
await step("getTags", () => client.getTags());
await step("setTags", () => client.setTags({ IDs: [welcome], Tags: ["vip", "Later"] }));
await step("renameTag", () => client.renameTag("vip", "VIP Customer"));
await step("deleteTag", () => client.deleteTag("Later"));
await step("getTags(after)", () => client.getTags());
await step("getMessageSummary(tags)", () => client.getMessageSummary(welcome));
await step("setReadStatus(IDs)", () => client.setReadStatus({ IDs: [welcome], Read: false }));
await step("listMessages(after unread)", () => client.listMessages());
await step("setReadStatus(Search)", () => client.setReadStatus({ Search: "subject:Welcome", Read: true }));
await step("listMessages(after search read)", () => client.listMessages());
await step("htmlCheck", () => client.htmlCheck(invoice));
await step("linkCheck", () => client.linkCheck(invoice));
await step("spamAssassinCheck", () => client.spamAssassinCheck(invoice));
await step("getChaosTriggers", () => client.getChaosTriggers());
await step("setChaosTriggers", () => client.setChaosTriggers({}));
await step("releaseMessage", () => client.releaseMessage(welcome, { To: ["someone@example.com"] }));
await step("sendMessage", () =>
  client.sendMessage({
    From: { Email: "app@example.com", Name: "App" },
    To: [{ Email: "ann@example.com", Name: "Ann" }],
    Cc: [{ Email: "cc@example.com" }],
    Bcc: ["hidden@example.com"],
    ReplyTo: [{ Email: "help@example.com" }],
    Subject: "Sent over HTTP",
    Text: "hi Ann",
    HTML: '<p>hi <img src="cid:dot"></p>',
    Attachments: [
      { Content: Buffer.from("a,b\n").toString("base64"), Filename: "data.csv" },
      { Content: Buffer.from("GIF89a").toString("base64"), Filename: "dot.gif", ContentType: "image/gif", ContentID: "dot" },
    ],
    Tags: ["Sent", "npm"],
    Headers: { "X-Client": "mailpit-api" },
  }),
);
// What was sent, then gone again, so that the steps after see the two messages they expect.
const sentID = results.sendMessage.ok ? results.sendMessage.value.ID : "none";
await step("getMessageSummary(sent)", () => client.getMessageSummary(sentID));
await step("deleteMessages(sent)", () => client.deleteMessages({ IDs: [sentID] }));
await step("sendMessage(no recipient)", () => client.sendMessage({ From: { Email: "app@example.com" }, To: [] }));
await step("deleteMessagesBySearch", () => client.deleteMessagesBySearch({ query: "subject:Welcome" }));
await step("listMessages(after search delete)", () => client.listMessages());
await step("deleteMessages(IDs)", () => client.deleteMessages({ IDs: [invoice] }));
await step("listMessages(after delete)", () => client.listMessages());
await step("deleteMessages(all)", () => client.deleteMessages());
await step("listMessages(empty)", () => client.listMessages());

process.stdout.write(JSON.stringify(results));
