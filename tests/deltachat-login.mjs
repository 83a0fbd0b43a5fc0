// Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

// Delta Chat's core (npm package "@deltachat/stdio-rpc-server", which
// ships deltachat-rpc-server; JSON-RPC over its standard input and
// output) configuring an account the way the apps do when the person
// enters the servers by hand, for scripts/measure-clients: a new account
// in a throwaway directory, add_or_update_transport with the IMAP server,
// port, user and password, plain IMAP, and SMTP at 127.0.0.1:SMTP_PORT
// (tests/fake-smtp.py there: the core checks the SMTP login too). Prints
// what add_or_update_transport raised (the error the apps show under the
// account setup form) or that it configured the account, the ERROR and
// WARNING events, CONFIGURE_PROGRESS's comment and the INFO events of the
// IMAP login.
// The rest of the events go to standard error.
//
// usage: node deltachat-login.mjs NPM_PREFIX DIR HOST PORT USER PASSWORD SMTP_PORT
// NPM_PREFIX is where "npm install --prefix" put @deltachat/stdio-rpc-server;
// DIR a new directory for its accounts. Run it where only 127.0.0.1 is
// reachable (scripts/measure-clients runs it in a network namespace of
// its own): it resolves names on its own when it is let.

import { createRequire } from 'node:module';
import { join } from 'node:path';

const [prefix, dir, host, port, user, password, smtpPort] = process.argv.slice(2);
const require = createRequire(join(prefix, 'node_modules', 'x.js'));
const { startDeltaChat } = require('@deltachat/stdio-rpc-server');
const version = require('@deltachat/stdio-rpc-server/package.json').version;

const out = line => process.stdout.write(line + '\n');
const text = value => JSON.stringify(value === undefined ? null : value);

const dc = startDeltaChat(dir, { muteStdErr: true, disableEnvPath: true });
out('@deltachat/stdio-rpc-server ' + version + ' (core ' +
    (await dc.rpc.getSystemInfo()).deltachat_core_version + ')');
dc.on('ALL', (accountId, event) => {
    const shown = event.kind === 'Error' || event.kind === 'Warning' ||
        (event.kind === 'ConfigureProgress' && event.comment) ||
        (event.kind === 'Info' &&
            (/Logging into IMAP|logged into IMAP/.test(event.msg) ||
             /REFERRAL|\[ALERT\]|\bBYE\b/.test(event.msg)));
    if (shown)
        out('event ' + event.kind + ': ' + text(event.msg ?? event.comment) +
            (event.kind === 'ConfigureProgress' ? ' (progress ' + event.progress + ')' : ''));
    else
        process.stderr.write('event ' + JSON.stringify(event) + '\n');
});
const timer = setTimeout(() => { out('no answer after 50 s'); dc.close(); process.exit(2); }, 50000);
const account = await dc.rpc.addAccount();
try {
    await dc.rpc.addOrUpdateTransport(account, {
        addr: user + '@example.org',
        password,
        imapServer: host,
        imapPort: Number(port),
        imapFolder: null,
        imapSecurity: 'plain',
        imapUser: user,
        smtpServer: host,
        smtpPort: Number(smtpPort),
        smtpSecurity: 'plain',
        smtpUser: null,
        smtpPassword: null,
        certificateChecks: null
    });
    out('add_or_update_transport() resolved: configured');
} catch (err) {
    out('add_or_update_transport() raised: ' + text(err.message));
}
clearTimeout(timer);
dc.close();
process.exit(0);
