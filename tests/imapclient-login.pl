#!/usr/bin/perl
# Copyright (c) 2026 dovecot-referral authors, see the included COPYING file

# Perl's Mail::IMAPClient (the library under imapsync) logging in the way
# an application does, for scripts/measure-clients: new() with Server,
# User and Password connects and logs in; prints what new() left in $@
# and LastError when it failed, or that it logged in and selected INBOX,
# and every [ALERT] it kept (it shows none by itself). Its Debug output
# (the conversation) goes to standard error.
#
# usage: perl imapclient-login.pl HOST PORT USER PASSWORD
use strict;
use warnings;
use Mail::IMAPClient;

my ($host, $port, $user, $password) = @ARGV;
print "Mail::IMAPClient $Mail::IMAPClient::VERSION\n";
my $imap = Mail::IMAPClient->new(
	Server => $host, Port => $port, User => $user,
	Password => $password, Ssl => 0, Starttls => 0, Timeout => 20,
	Debug => 1, Debug_fh => \*STDERR);
if (!$imap) {
	my $err = $@;
	$err =~ s/\s+$//;
	print "new() failed: \$\@=\"$err\"\n";
	exit 0;
}
# new() may give an object that is connected but not logged in
if (!$imap->IsAuthenticated) {
	my $err = $imap->LastError // '';
	$err =~ s/\s+$//;
	print "not logged in: LastError=\"$err\"\n";
	exit 0;
}
print "logged in; the OK lines of Results(): \"", join(' | ', map { s/\r\n$//r } grep { /^\S+ OK/ }
	@{$imap->Results // []}), "\"\n";
if ($imap->select('INBOX')) {
	print "INBOX open, ", $imap->message_count('INBOX') // '?', " messages\n";
} else {
	print "select failed: ", $imap->LastError, "\n";
}
$imap->logout;
