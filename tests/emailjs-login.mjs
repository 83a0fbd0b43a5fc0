// Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

// emailjs-imap-client (npm package "emailjs-imap-client") logging in with
// connect() the way an application does, for scripts/measure-clients:
// prints what connect() raised (message, code), the onerror callback, or
// that connect() resolved and INBOX was opened. It has no [ALERT]
// callback. Its log (the conversation) goes to standard error.
//
// usage: node emailjs-login.mjs NPM_PREFIX HOST PORT USER PASSWORD
// NPM_PREFIX is where "npm install --prefix" put emailjs-imap-client.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const [prefix, host, port, user, pass] = process.argv.slice(2);
const require = createRequire(join(prefix, 'node_modules', 'x.js'));
const { default: ImapClient, LOG_LEVEL_DEBUG } = require('emailjs-imap-client');
const version = require('emailjs-imap-client/package.json').version;

const out = line => process.stdout.write(line + '\n');
const text = value => JSON.stringify(value === undefined ? null : value);

out('emailjs-imap-client ' + version);
const client = new ImapClient(host, Number(port), {
    auth: { user, pass },
    useSecureTransport: false,
    ignoreTLS: true,
    logLevel: LOG_LEVEL_DEBUG
});
// its log to standard error, not to the console's standard output
const log = (level, msgs) => process.stderr.write(level + ': ' + msgs.map(
    m => typeof m === 'function' ? m() : (typeof m === 'string' ? m : JSON.stringify(m))).join(' ') + '\n');
client.createLogger(() => ({
    debug: msgs => log('debug', msgs), info: msgs => log('info', msgs),
    warn: msgs => log('warn', msgs), error: msgs => log('error', msgs)
}));
client.onerror = err => out('onerror: ' + text(err && err.message));
const timer = setTimeout(() => { out('no answer after 30 s'); process.exit(2); }, 30000);
try {
    await client.connect();
    out('connect() resolved (logged in)');
    const box = await client.selectMailbox('INBOX');
    out('INBOX open, ' + box.exists + ' messages');
    await client.logout();
} catch (err) {
    out('connect() raised: message=' + text(err.message) + ' code=' + text(err.code));
}
clearTimeout(timer);
