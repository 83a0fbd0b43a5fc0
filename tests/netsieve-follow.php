<?php
/* Log in with PEAR Net_Sieve (Debian php-net-sieve), the ManageSieve
   library of Horde's Ingo, follow a referral the way it does, and list the
   scripts of wherever it ended up.
   usage: php netsieve-follow.php HOST PORT USER PASSWORD

   Net_Sieve 1.4.6 follows a BYE (REFERRAL) during AUTHENTICATE by
   connecting to the referred host on the same port and logging in there,
   but then waits for one more reply to the original AUTHENTICATE, which no
   server sends: login() returns an error after the socket timeout although
   the client is logged in on the new host. This script reports that and
   carries on, as an application could; the timeout is cut to 3 seconds. */
require_once 'Net/Sieve.php';

ini_set('default_socket_timeout', '3');
list(, $host, $port, $user, $pass) = $argv;
$sieve = new Net_Sieve();
$sieve->setDebug(true, function ($sieve, $message) {
    echo 'debug: ', rtrim($message), "\n";
});
$res = $sieve->connect($host, $port, null, false);
if (PEAR::isError($res)) {
    echo 'connect failed: ', $res->getMessage(), "\n";
    exit(1);
}
$res = $sieve->login($user, $pass, 'PLAIN');
if (PEAR::isError($res)) {
    echo 'login() returned an error: ', $res->getMessage(), "\n";
    if ($sieve->_data['host'] === $host) {
        exit(1);
    }
    echo 'but the referral to ', $sieve->_data['host'],
        ' was followed; going on there', "\n";
}
$scripts = $sieve->listScripts();
if (PEAR::isError($scripts)) {
    echo 'LISTSCRIPTS failed: ', $scripts->getMessage(), "\n";
    exit(1);
}
echo 'logged in at: ', $sieve->_data['host'], "\n";
echo 'scripts: ', implode(' ', $scripts), "\n";
$sieve->disconnect();
