<?php
/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Roundcube's IMAP library (Debian's roundcube-core, rcube_imap_generic)
   logging in the way Roundcube does (connect() with the default
   auth_type, which picks AUTHENTICATE PLAIN when the server offers it),
   for scripts/measure-clients. Prints connect()'s result, the library's
   error, error number and response code/text, and what Roundcube's login
   page would show for that error number (index.php: "Connection to
   storage server failed." below -1, else "Login failed."). The IMAP
   conversation goes to standard error. Roundcube 1.6 has no handling of
   [ALERT]: an alert is only in the conversation.

   usage: php roundcube-login.php HOST PORT USER PASSWORD */

$lib = '/usr/share/roundcube/program/lib/Roundcube';
require_once "$lib/bootstrap.php";

list(, $host, $port, $user, $password) = $argv;

$imap = new rcube_imap_generic();
$imap->setDebug(true, function ($imap, $text) {
	fwrite(STDERR, "$text\n");
});
$ok = $imap->connect($host, $user, $password, [
	'port' => (int) $port,
	'timeout' => 20,
	'ssl_mode' => null,
]);
$webmail = $imap->errornum < -1 ? 'Connection to storage server failed.'
	: 'Login failed.';
if ($ok) {
	$login = $imap->result;
	$select = $imap->select('INBOX');
	printf("connect: true; result: %s; SELECT INBOX: %s\n",
	       var_export($login, true), $select ? 'ok' : 'failed');
	$imap->closeConnection();
} else {
	printf("connect: false; error: %s; errornum: %d; resultcode: %s;" .
	       " result: %s; webmail shows: %s\n",
	       var_export($imap->error, true), $imap->errornum,
	       var_export($imap->resultcode, true),
	       var_export($imap->result, true), $webmail);
}
