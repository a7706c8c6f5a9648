// Sends one message with nodemailer over implicit TLS (`secure: true`, as for port 465), trusting only
// the given certificate, and prints nodemailer's answer as JSON, for tests/smtp/test_implicit_tls.py.
//
//   node send_smtps.mjs HOST PORT CERT_FILE USER PASSWORD
import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";

const [host, port, certFile, user, pass] = process.argv.slice(2);
const transport = nodemailer.createTransport({
  host,
  port: Number(port),
  secure: true,
  auth: { user, pass },
  tls: { ca: [readFileSync(certFile)], servername: "localhost" },
});
try {
  const info = await transport.sendMail({
    from: "app@example.com",
    to: "bob@example.com",
    subject: "from nodemailer over TLS",
    text: "Hello over SMTPS.",
  });
  process.stdout.write(JSON.stringify({ ok: true, response: info.response, accepted: info.accepted }));
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error.message ?? error) }));
}
