// Thunderbird profile template of tests/thunderbird-login, which replaces
// @HOST@, @PORT@ and @USER@ and writes the result as user.js into a new
// profile. One IMAP account, as a person would have set it up by hand:
// cleartext IMAP (no TLS), "Normal password" (authMethod 3), no stored
// password (Thunderbird asks for it), and nothing that talks to any other
// server or puts a first-run page, wizard or question in front of it.

// The account: IMAP on @HOST@:@PORT@ as @USER@, plus the Local Folders
// that every profile has.
user_pref("mail.accountmanager.accounts", "account1,account2");
user_pref("mail.accountmanager.defaultaccount", "account1");
user_pref("mail.accountmanager.localfoldersserver", "server2");
user_pref("mail.account.lastKey", 2);
user_pref("mail.account.account1.identities", "id1");
user_pref("mail.account.account1.server", "server1");
user_pref("mail.account.account2.server", "server2");
user_pref("mail.identity.id1.fullName", "Test User");
user_pref("mail.identity.id1.useremail", "@USER@@example.com");
user_pref("mail.identity.id1.valid", true);
user_pref("mail.server.server1.type", "imap");
user_pref("mail.server.server1.hostname", "@HOST@");
user_pref("mail.server.server1.port", @PORT@);
user_pref("mail.server.server1.userName", "@USER@");
user_pref("mail.server.server1.name", "@USER@@@HOST@");
// 0: no TLS, not even STARTTLS; 3: "Normal password"
user_pref("mail.server.server1.socketType", 0);
user_pref("mail.server.server1.authMethod", 3);
// connect at start and select INBOX, as for any account
user_pref("mail.server.server1.login_at_startup", true);
user_pref("mail.server.server2.type", "none");
user_pref("mail.server.server2.hostname", "Local Folders");
user_pref("mail.server.server2.name", "Local Folders");
user_pref("mail.server.server2.userName", "nobody");

// Nothing in front of the main window: no start page, no "know your
// rights" or data-choices bar, no default-client question, no in-app
// notifications, no end-of-year appeal.
user_pref("mailnews.start_page.enabled", false);
user_pref("mailnews.start_page_override.mstone", "ignore");
user_pref("mail.rights.version", 1);
user_pref("mail.shell.checkDefaultClient", false);
user_pref("mail.spotlight.firstRunDone", true);
user_pref("mail.winsearch.firstRunDone", true);
user_pref("mail.inappnotifications.enabled", false);
user_pref("app.donation.eoy.version.viewed", 999);
user_pref("datareporting.policy.dataSubmissionPolicyBypassNotification", true);
user_pref("calendar.integration.notify", false);

// No telemetry, updates or extension checks; no other network lookups.
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("datareporting.healthreport.uploadEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("toolkit.telemetry.unified", false);
user_pref("toolkit.telemetry.archive.enabled", false);
user_pref("toolkit.telemetry.newProfilePing.enabled", false);
user_pref("toolkit.telemetry.shutdownPingSender.enabled", false);
user_pref("toolkit.telemetry.firstShutdownPing.enabled", false);
user_pref("toolkit.telemetry.updatePing.enabled", false);
user_pref("toolkit.telemetry.bhrPing.enabled", false);
user_pref("app.update.auto", false);
user_pref("app.update.checkInstallTime", false);
user_pref("extensions.update.enabled", false);
user_pref("extensions.update.autoUpdateDefault", false);
user_pref("extensions.systemAddon.update.enabled", false);
user_pref("extensions.getAddons.cache.enabled", false);
user_pref("lightweightThemes.update.enabled", false);
user_pref("services.settings.server", "data:,");
user_pref("mailnews.auto_config_url", "");
user_pref("mailnews.auto_config.addons_url", "");
user_pref("mailnews.auto_config.fetchFromISP.enabled", false);
user_pref("mailnews.auto_config.fetchFromExchange.enabled", false);
user_pref("mailnews.auto_config.guess.enabled", false);
user_pref("mail.accounthub.thundermail.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("network.dns.disablePrefetch", true);
user_pref("network.prefetch-next", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("browser.safebrowsing.downloads.enabled", false);
user_pref("browser.safebrowsing.provider.mozilla.updateURL", "");
user_pref("browser.region.update.enabled", false);
user_pref("browser.region.network.url", "");
user_pref("dom.push.connection.enabled", false);
user_pref("geo.provider.network.url", "");
user_pref("mail.cloud_files.enabled", false);
user_pref("calendar.timezone.local", "UTC");
user_pref("calendar.timezone.useSystemTimezone", false);

// Server alerts (IMAP [ALERT]) as Thunderbird's own notification window
// rather than through a desktop notification service, which Xvfb has not:
// the same text, in a window the tests can see and photograph.
user_pref("alerts.useSystemBackend", false);
