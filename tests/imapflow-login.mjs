// Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

// Node's imapflow (npm package "imapflow") logging in with connect() the
// way an application does, for scripts/measure-clients: prints what
// connect() raised (message, code, responseText, serverResponseCode,
// responseStatus, authenticationFailed, the server's text), every 'alert'
// event (imapflow 2.3 and newer emit one for an [ALERT] response code,
// which RFC 3501 says must be shown to the person) and, when the login
// worked, that INBOX was opened. The conversation goes to standard error.
//
// usage: node imapflow-login.mjs NPM_PREFIX HOST PORT USER PASSWORD
// NPM_PREFIX is where "npm install --prefix" put imapflow.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const [prefix, host, port, user, pass] = process.argv.slice(2);
const require = createRequire(join(prefix, 'node_modules', 'x.js'));
const { ImapFlow } = require('imapflow');
const version = require('imapflow/package.json').version;

const out = line => process.stdout.write(line + '\n');
const text = value => JSON.stringify(value === undefined ? null : value);

const logger = {};
for (const level of ['debug', 'info', 'warn', 'error', 'trace', 'fatal']) {
    logger[level] = entry => {
        if (entry && entry.src === 's') {
            process.stderr.write('S: ' + entry.msg + '\n');
        } else if (entry && entry.src === 'c') {
            process.stderr.write('C: ' + entry.msg + '\n');
        } else {
            process.stderr.write(level + ': ' + JSON.stringify(entry) + '\n');
        }
    };
}

const client = new ImapFlow({
    host,
    port: Number(port),
    secure: false,
    doSTARTTLS: false,
    auth: { user, pass },
    logger,
    logRaw: false,
    connectionTimeout: 20000,
    greetingTimeout: 20000,
    socketTimeout: 30000
});
client.on('alert', alert => out('alert: ' + text(alert.message) +
    ' (in ' + alert.response + (alert.tag ? ', tagged' : ', untagged') + ')'));
client.on('error', err => out('error event: ' + err.message));

out('imapflow ' + version);
try {
    await client.connect();
    const lock = await client.getMailboxLock('INBOX');
    out('connect() resolved; INBOX open, ' + client.mailbox.exists + ' messages');
    lock.release();
    await client.logout();
} catch (err) {
    out('connect() raised: message=' + text(err.message) +
        ' code=' + text(err.code) +
        ' responseText=' + text(err.responseText) +
        ' serverResponseCode=' + text(err.serverResponseCode) +
        ' responseStatus=' + text(err.responseStatus) +
        ' authenticationFailed=' + text(err.authenticationFailed) +
        ' response=' + text(typeof err.response === 'string' ? err.response : undefined));
    client.close();
}
