/* Copyright (c) 2026 dovecot-referral authors, see the included COPYING file */

/* Jakarta Mail (Debian's libjakarta-mail-java) logging in to an IMAP
   server the way an application does (Store.connect, then INBOX), for
   scripts/measure-clients: prints what the application gets, word for
   word. A login referral reaches the application as a ReferralException
   (with its URL and text) or as another MessagingException, whose class
   and message are printed. Any [ALERT] the server sends reaches the
   application as a StoreEvent of type ALERT (RFC 3501 says it must be
   shown to the person): printed too.

   usage: java -cp <jakarta-mail.jar>:<jakarta-activation.jar>:<dir>
            JakartaLogin HOST PORT USER PASSWORD [referralexception]
   With "referralexception", mail.imap.referralexception=true: Jakarta then
   throws ReferralException for a referral in an OK too (suggest mode). */

import jakarta.mail.Folder;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Store;
import jakarta.mail.event.StoreEvent;
import java.util.Properties;

class JakartaLogin {
	public static void main(String[] args) {
		Properties props = new Properties();
		props.setProperty("mail.imap.host", args[0]);
		props.setProperty("mail.imap.port", args[1]);
		props.setProperty("mail.imap.connectiontimeout", "20000");
		props.setProperty("mail.imap.timeout", "20000");
		props.setProperty("mail.imap.starttls.enable", "false");
		if (args.length > 4 && args[4].equals("referralexception"))
			props.setProperty("mail.imap.referralexception", "true");
		Session session = Session.getInstance(props);
		Store store = null;
		try {
			store = session.getStore("imap");
			store.addStoreListener(e -> System.out.println(
				(e.getMessageType() == StoreEvent.ALERT ?
				 "alert: " : "notice: ") + e.getMessage()));
			store.connect(args[0], Integer.parseInt(args[1]),
				      args[2], args[3]);
			Folder inbox = store.getFolder("INBOX");
			inbox.open(Folder.READ_ONLY);
			System.out.println("opened INBOX: " +
				inbox.getMessageCount() + " messages");
			inbox.close(false);
		} catch (com.sun.mail.imap.ReferralException e) {
			System.out.println("ReferralException: url=" + e.getUrl() +
				" text=" + e.getText() + " message=" +
				e.getMessage());
		} catch (MessagingException e) {
			System.out.println(e.getClass().getName() + ": " +
				e.getMessage());
		} finally {
			try {
				if (store != null && store.isConnected())
					store.close();
			} catch (MessagingException e) {
				System.out.println("close: " + e);
			}
		}
		/* store events are delivered by a daemon thread of
		   Jakarta's: give it time to print them */
		try {
			Thread.sleep(500);
		} catch (InterruptedException e) {
		}
	}
}
