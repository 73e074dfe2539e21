//! Readers and their comments over HTTP against the real binary: accounts with mail received
//! by a real SMTP listener, posting and replying, the cached story page following within a
//! second, likes, reports, edits, deletion, and the moderation pipeline's refusals and holds.

mod common;
#[path = "support/readers.rs"]
mod readers;
#[path = "support/smtp.rs"]
mod smtp;

use std::time::Duration;

use common::{Page, TestSite};
use readers::*;
use smtp::{SmtpListener, link_in};

#[tokio::test]
async fn readers_sign_up_confirm_by_mail_and_reset_their_password() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[]);
    let short = post_account_form(
        &site,
        "/account/sign-up",
        "/account/sign-up",
        &[
            ("email", "ayse@example.org"),
            ("display_name", "Ayşe"),
            ("password", "123456789"),
        ],
    )
    .await;
    assert_eq!(short.status(), 422, "a password one short of the minimum");

    let cookie = new_reader(&site, &smtp, "ayse@example.org", "Ayşe").await;
    let verify = link_in(&smtp.wait_for("ayse@example.org"), "/account/verify/");
    assert_eq!(
        site.get(&path_of(&site, &verify)).await.status(),
        410,
        "a verification link works once"
    );
    let profile = page_as(&site, "/account", &cookie).await;
    assert_eq!(profile.attr("#display_name", "value"), "Ayşe");
    assert!(!profile.text.contains("ayse@example.org") || profile.status == 200);

    // The same address again: the same answer, and a mail that says so.
    let again = post_account_form(
        &site,
        "/account/sign-up",
        "/account/sign-up",
        &[
            ("email", "AYSE@example.org"),
            ("display_name", "Someone"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(again.status(), 200);
    assert!(read(again).await.text.contains("Check your mail"));
    let notice = smtp.wait_for_text("ayse@example.org", "already has one");
    assert!(notice.text.contains("/account/reset"), "{}", notice.text);

    let wrong = post_account_form(
        &site,
        "/account/sign-in",
        "/account/sign-in",
        &[
            ("email", "ayse@example.org"),
            ("password", "not the password"),
        ],
    )
    .await;
    assert_eq!(wrong.status(), 401);
    let no_token = site
        .client
        .post(site.url("/account/sign-in"))
        .form(&[("email", "ayse@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("post");
    assert_eq!(no_token.status(), 403, "no CSRF token");

    // Display name: changed with the session's token, refused without it.
    let csrf = profile.attr("form input[name=csrf]", "value");
    let renamed = post_as(
        &site,
        "/account/name",
        &cookie,
        &[("csrf", &csrf), ("display_name", "Ayşe K.")],
    )
    .await;
    assert_eq!(renamed.status, 303);
    let refused = post_as(
        &site,
        "/account/name",
        &cookie,
        &[("display_name", "Mallory")],
    )
    .await;
    assert_eq!(refused.status, 403);
    let long = "n".repeat(newsdesk_core::reader::DISPLAY_NAME_MAX + 1);
    let too_long = post_as(
        &site,
        "/account/name",
        &cookie,
        &[("csrf", &csrf), ("display_name", &long)],
    )
    .await;
    assert_eq!(too_long.status, 422);
    assert_eq!(
        page_as(&site, "/account", &cookie)
            .await
            .attr("#display_name", "value"),
        "Ayşe K."
    );

    // Reset by mail: the answer never tells whether the address has an account.
    for email in ["ayse@example.org", "nobody@example.org"] {
        let asked = post_account_form(
            &site,
            "/account/reset",
            "/account/reset",
            &[("email", email)],
        )
        .await;
        assert_eq!(asked.status(), 200);
    }
    assert_eq!(smtp.count_to("nobody@example.org"), 0);
    let reset = link_in(
        &smtp.wait_for_text("ayse@example.org", "choose a new password"),
        "/account/reset/",
    );
    let reset_path = path_of(&site, &reset);
    let too_short = site
        .client
        .post(site.url(&reset_path))
        .form(&[("password", "short")])
        .send()
        .await
        .expect("post");
    assert_eq!(too_short.status(), 422);
    let done = site
        .client
        .post(site.url(&reset_path))
        .form(&[("password", "a brand new passphrase")])
        .send()
        .await
        .expect("post");
    assert_eq!(done.status(), 200);
    assert_eq!(
        page_as(&site, "/account", &cookie).await.status,
        303,
        "signed out everywhere"
    );
    sign_in(&site, "ayse@example.org", "a brand new passphrase").await;
}

#[tokio::test]
async fn a_reader_comments_and_replies_and_the_cached_story_page_follows_within_a_second() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[TRUSTED]);
    let item = lead_id(&site).await;
    let empty = site.ok(LEAD).await;
    assert!(
        empty.text.contains("Leave the first comment"),
        "the empty state invites"
    );

    // Signed out, the discussion offers sign-in, and posting is sent there.
    let anonymous = site.ok(&format!("/comments/{item}")).await;
    assert!(anonymous.text.contains("Sign in to comment"));
    let sent = site
        .client
        .post(site.url(&format!("/comments/{item}")))
        .form(&[("body", "Hello")])
        .send()
        .await
        .expect("post");
    assert_eq!(sent.status(), 303);
    assert!(
        sent.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .starts_with("/account/sign-in?next=")
    );

    let ana = new_reader(&site, &smtp, "ana@example.org", "Ana").await;
    let ben = new_reader(&site, &smtp, "ben@example.org", "Ben <b>old</b>").await;
    let posted = comment(
        &site,
        &ana,
        item,
        "The barrier held.\n\nWell done to the crews: https://example.org/crews.",
        None,
    )
    .await;
    assert_eq!(posted.status, 303, "{}", posted.text);
    let first = comment_id(&posted);
    let story = site
        .eventually(LEAD, SOON, |p| p.text.contains("The barrier held."))
        .await;
    assert_eq!(story.text_of("#comments-title"), "Comments (1)");
    assert_eq!(
        story.attr(&format!("#c{first} .comment-body a"), "rel"),
        "nofollow ugc noopener"
    );

    // A reply nests under its comment; the name is text, never markup.
    let reply = comment(&site, &ben, item, "Agreed.", Some(first)).await;
    assert_eq!(reply.status, 303, "{}", reply.text);
    let second = comment_id(&reply);
    let story = site
        .eventually(LEAD, SOON, |p| p.text.contains("Agreed."))
        .await;
    assert_eq!(
        story
            .select(&format!("#c{first} .replies #c{second}"))
            .len(),
        1
    );
    assert_eq!(
        story.text_of(&format!("#c{second} .comment-author")),
        "Ben <b>old</b>"
    );
    assert_eq!(story.text_of("#comments-title"), "Comments (2)");

    // A retried post (same key) is stored once.
    let discussion = page_as(&site, &format!("/comments/{item}"), &ana).await;
    let csrf = discussion.attr("#comment-form input[name=csrf]", "value");
    let key = discussion.attr("#comment-form input[name=key]", "value");
    for _ in 0..2 {
        let p = post_as(
            &site,
            &format!("/comments/{item}"),
            &ana,
            &[
                ("csrf", &csrf),
                ("key", &key),
                ("body", "Sent twice by a shaky connection."),
            ],
        )
        .await;
        assert_eq!(p.status, 303);
    }
    let twice = page_as(&site, &format!("/comments/{item}"), &ana).await;
    assert_eq!(
        twice
            .texts(".comment-body")
            .iter()
            .filter(|t| t.contains("Sent twice by a shaky connection."))
            .count(),
        1
    );
    let no_token = post_as(
        &site,
        &format!("/comments/{item}"),
        &ana,
        &[("body", "No token")],
    )
    .await;
    assert_eq!(no_token.status, 403);

    // Likes: one per reader, a second press takes it back.
    let csrf_ben = page_as(&site, &format!("/comments/{item}"), &ben)
        .await
        .attr("#comment-form input[name=csrf]", "value");
    let like = format!("/comments/c/{first}/like");
    assert_eq!(
        post_as(&site, &like, &ben, &[("csrf", &csrf_ben)])
            .await
            .status,
        303
    );
    // Likes purge no cached page (the count there may trail by cache.s_maxage); the
    // discussion page, never cached, shows them at once.
    let likes = |page: Page| page.text_of(&format!("#c{first} > article .likes"));
    assert_eq!(
        likes(page_as(&site, &format!("/comments/{item}"), &ben).await),
        "1 like"
    );
    assert_eq!(
        post_as(&site, &like, &ben, &[("csrf", &csrf_ben)])
            .await
            .status,
        303
    );
    assert_eq!(
        likes(page_as(&site, &format!("/comments/{item}"), &ben).await),
        "0 likes"
    );

    // Another reader can neither edit nor delete Ana's comment.
    for action in ["edit", "delete"] {
        let p = post_as(
            &site,
            &format!("/comments/c/{first}/{action}"),
            &ben,
            &[("csrf", &csrf_ben), ("body", "Hijacked")],
        )
        .await;
        assert_eq!(p.status, 404, "{action} by another reader");
    }
    // Ana edits within the window, then deletes; the reply keeps a marker above it.
    let edited = post_as(
        &site,
        &format!("/comments/c/{first}/edit"),
        &ana,
        &[("csrf", &csrf), ("body", "The barrier held, again.")],
    )
    .await;
    assert_eq!(edited.status, 303, "{}", edited.text);
    site.eventually(LEAD, SOON, |p| {
        p.text.contains("The barrier held, again.") && p.text.contains("edited")
    })
    .await;
    let deleted = post_as(
        &site,
        &format!("/comments/c/{first}/delete"),
        &ana,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(deleted.status, 303);
    let story = site
        .eventually(LEAD, SOON, |p| p.text.contains("deleted by its writer"))
        .await;
    assert!(!story.text.contains("The barrier held, again."));
    assert_eq!(
        story
            .select(&format!("#c{first} .replies #c{second}"))
            .len(),
        1
    );

    // Reports need a reason and are counted once per reader.
    let report = format!("/comments/c/{second}/report");
    assert_eq!(
        post_as(&site, &report, &ana, &[("csrf", &csrf), ("reason", "")])
            .await
            .status,
        422
    );
    assert_eq!(
        post_as(
            &site,
            &report,
            &ana,
            &[("csrf", &csrf), ("reason", "Off topic")]
        )
        .await
        .status,
        303
    );

    // With JavaScript the post answers JSON and the page does not reload.
    let discussion = page_as(&site, &format!("/comments/{item}"), &ana).await;
    let key = discussion.attr("#comment-form input[name=key]", "value");
    let json = site
        .client
        .post(site.url(&format!("/comments/{item}")))
        .header("cookie", &ana)
        .header("accept", "application/json")
        .form(&[
            ("csrf", csrf.as_str()),
            ("key", key.as_str()),
            ("body", "Posted without a reload."),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(json.status(), 201);
    let body: serde_json::Value = json.json().await.expect("json");
    assert_eq!(body["held"], false);
    assert!(
        body["html"]
            .as_str()
            .unwrap_or_default()
            .contains("Posted without a reload.")
    );

    // Sorting: oldest first puts the deleted marker's thread before the newest comment.
    let oldest = page_as(&site, &format!("/comments/{item}?sort=oldest"), &ana).await;
    let ids: Vec<String> = oldest
        .select("ol.comments > li")
        .iter()
        .filter_map(|e| e.value().attr("id").map(str::to_owned))
        .collect();
    assert_eq!(
        ids.first().map(String::as_str),
        Some(format!("c{first}").as_str()),
        "{ids:?}"
    );
    let newest = page_as(&site, &format!("/comments/{item}?sort=newest"), &ana).await;
    let ids: Vec<String> = newest
        .select("ol.comments > li")
        .iter()
        .filter_map(|e| e.value().attr("id").map(str::to_owned))
        .collect();
    assert_ne!(
        ids.first().map(String::as_str),
        Some(format!("c{first}").as_str()),
        "{ids:?}"
    );
}

#[tokio::test]
async fn moderation_refuses_banned_words_holds_the_doubtful_and_limits_the_rate() {
    let smtp = SmtpListener::start();
    // The demo bans "buy followers" and holds "casino"; new readers are held once.
    let site = start(&smtp, &[]);
    let item = lead_id(&site).await;
    let cleo = new_reader(&site, &smtp, "cleo@example.org", "Cleo").await;
    let dan = new_reader(&site, &smtp, "dan@example.org", "Dan").await;

    let banned = comment(&site, &cleo, item, "Want to BUY FOLLOWERS cheap?", None).await;
    assert_eq!(banned.status, 422);
    assert!(
        banned.text_of(".form-error").contains("buy followers"),
        "{}",
        banned.text_of(".form-error")
    );

    // A new reader's first comment waits; only its writer sees it, with why.
    let first = comment(&site, &cleo, item, "My first words here.", None).await;
    assert_eq!(first.status, 303);
    assert!(first.header("location").contains("posted=held"));
    let mine = page_as(&site, &format!("/comments/{item}"), &cleo).await;
    assert!(
        mine.text.contains("My first words here.") && mine.text.contains("waits for a moderator")
    );
    let theirs = page_as(&site, &format!("/comments/{item}"), &dan).await;
    assert!(!theirs.text.contains("My first words here."));
    tokio::time::sleep(SOON).await;
    assert!(!site.ok(LEAD).await.text.contains("My first words here."));

    // The same words again are refused as a repeat; a fourth comment in a minute waits.
    let repeat = comment(&site, &cleo, item, "  my FIRST words here. ", None).await;
    assert_eq!(repeat.status, 422, "{}", repeat.text_of(".form-error"));
    for n in 0..2 {
        let p = comment(&site, &cleo, item, &format!("Thought number {n}."), None).await;
        assert_eq!(p.status, 303);
    }
    let too_many = comment(&site, &cleo, item, "One more thought.", None).await;
    assert_eq!(too_many.status, 429);
    assert_eq!(too_many.header("retry-after"), "60");

    // A reader who has not confirmed their address cannot comment.
    let signed_up = post_account_form(
        &site,
        "/account/sign-up",
        "/account/sign-up",
        &[
            ("email", "eve@example.org"),
            ("display_name", "Eve"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(signed_up.status(), 200);
    let eve = sign_in(&site, "eve@example.org", PASSWORD).await;
    let unconfirmed = page_as(&site, &format!("/comments/{item}"), &eve).await;
    assert!(unconfirmed.text.contains("Confirm your address"));
    assert!(unconfirmed.select("#comment-form").is_empty());
}

/// The desk's CSRF token for a signed-in staff cookie.
async fn desk_csrf(site: &TestSite, cookie: &str) -> String {
    page_as(site, "/desk/password", cookie)
        .await
        .attr("form input[name=csrf]", "value")
}

#[tokio::test]
async fn moderators_approve_reject_feature_close_and_suspend_and_all_is_audited() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[("NEWSDESK_COMMENTS__REPORTS_TO_HOLD", "1")]);
    site.add_user("mod@example.org", "moderator", "correct horse battery");
    site.add_user("writer@example.org", "contributor", "correct horse battery");
    site.add_user("admin@example.org", "admin", "correct horse battery");
    let moderator = site
        .desk_cookie("mod@example.org", "correct horse battery")
        .await;
    let writer = site
        .desk_cookie("writer@example.org", "correct horse battery")
        .await;
    assert_eq!(page_as(&site, "/desk/comments", &writer).await.status, 403);
    let item = lead_id(&site).await;
    let fay = new_reader(&site, &smtp, "fay@example.org", "Fay").await;
    let gus = new_reader(&site, &smtp, "gus@example.org", "Gus").await;

    // A new reader's first comment waits in the queue with its reason; approving publishes it.
    let held = comment(&site, &fay, item, "Held until someone looks.", None).await;
    let fay_first = comment_id(&held);
    let queue = page_as(&site, "/desk/comments", &moderator).await;
    assert!(
        queue
            .text_of(&format!("#q{fay_first} .why"))
            .contains("new reader")
    );
    let csrf = desk_csrf(&site, &moderator).await;
    let decide = |id: i64| format!("/desk/comments/{id}/decide");
    let approved = post_as(
        &site,
        &decide(fay_first),
        &moderator,
        &[("csrf", &csrf), ("decision", "approve")],
    )
    .await;
    assert_eq!(approved.status, 303);
    site.eventually(LEAD, SOON, |p| p.text.contains("Held until someone looks."))
        .await;
    // Trust grew: Fay's next comment is published at once.
    let second = comment(&site, &fay, item, "Now published at once.", None).await;
    assert!(second.header("location").contains("posted=published"));

    // A rejection needs a reason, which the writer sees.
    let gus_first = comment_id(
        &comment(
            &site,
            &gus,
            item,
            "Something a moderator will turn down.",
            None,
        )
        .await,
    );
    let no_reason = post_as(
        &site,
        &decide(gus_first),
        &moderator,
        &[("csrf", &csrf), ("decision", "reject")],
    )
    .await;
    assert_eq!(no_reason.status, 422);
    let rejected = post_as(
        &site,
        &decide(gus_first),
        &moderator,
        &[
            ("csrf", &csrf),
            ("decision", "reject"),
            ("reason", "Please keep to the story."),
        ],
    )
    .await;
    assert_eq!(rejected.status, 303);
    let seen_by_gus = page_as(&site, &format!("/comments/{item}"), &gus).await;
    assert!(
        seen_by_gus
            .text
            .contains("Not published: Please keep to the story.")
    );
    let no_token = post_as(
        &site,
        &decide(gus_first),
        &moderator,
        &[("decision", "approve")],
    )
    .await;
    assert_eq!(no_token.status, 403);

    // Featured comments are pinned on top.
    let featured = post_as(
        &site,
        &decide(fay_first),
        &moderator,
        &[("csrf", &csrf), ("decision", "feature")],
    )
    .await;
    assert_eq!(featured.status, 303);
    let story = site
        .eventually(LEAD, SOON, |p| p.text.contains("Featured"))
        .await;
    let first_li = story
        .select("ol.comments > li")
        .first()
        .and_then(|e| e.value().attr("id").map(str::to_owned));
    assert_eq!(first_li, Some(format!("c{fay_first}")));

    // A report (one is enough here) holds a published comment again, out of the page.
    let csrf_gus = page_as(&site, &format!("/comments/{item}"), &gus)
        .await
        .attr("#comment-form input[name=csrf]", "value");
    let reported = post_as(
        &site,
        &format!("/comments/c/{fay_first}/report"),
        &gus,
        &[("csrf", &csrf_gus), ("reason", "Spoils the ending")],
    )
    .await;
    assert_eq!(reported.status, 303);
    site.eventually(LEAD, SOON, |p| {
        !p.text.contains("Held until someone looks.")
    })
    .await;
    let queue = page_as(&site, "/desk/comments?queue=held", &moderator).await;
    assert!(
        queue
            .text_of(&format!("#q{fay_first} .why"))
            .contains("1 report")
    );

    // Closing a story's comments refuses new ones with a reason.
    let closed = post_as(
        &site,
        &format!("/desk/items/{item}/commenting"),
        &moderator,
        &[("csrf", &csrf), ("closed", "yes")],
    )
    .await;
    assert_eq!(closed.status, 303);
    let discussion = page_as(&site, &format!("/comments/{item}"), &fay).await;
    assert!(
        discussion
            .text
            .contains("Comments on this story are closed.")
    );
    let csrf_fay = discussion.attr("form input[name=csrf]", "value");
    let refused = post_as(
        &site,
        &format!("/comments/{item}"),
        &fay,
        &[("csrf", &csrf_fay), ("body", "Too late?")],
    )
    .await;
    assert_eq!(refused.status, 422);
    let reopened = post_as(
        &site,
        &format!("/desk/items/{item}/commenting"),
        &moderator,
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(reopened.status, 303);

    // A suspended reader cannot comment; the history shows what they wrote.
    let gus_id = queue_reader_id(&site, &moderator).await;
    let history = page_as(&site, &format!("/desk/readers/{gus_id}"), &moderator).await;
    assert!(
        history
            .text
            .contains("Something a moderator will turn down.")
    );
    let suspended = post_as(
        &site,
        &format!("/desk/readers/{gus_id}/standing"),
        &moderator,
        &[("csrf", &csrf), ("status", "suspended")],
    )
    .await;
    assert_eq!(suspended.status, 303);
    let blocked = comment(&site, &gus, item, "Still here?", None).await;
    assert_eq!(blocked.status, 422);
    assert!(
        blocked.text_of(".form-error").contains("may not comment"),
        "{}",
        blocked.text_of(".form-error")
    );

    let admin = site
        .desk_cookie("admin@example.org", "correct horse battery")
        .await;
    let audit = page_as(&site, "/desk/audit", &admin).await;
    let audit_text: String = audit.texts("td").join(" ");
    for action in [
        "approved the comment",
        "rejected the comment",
        "featured the comment",
        "set the story's comments",
        "set the reader's standing",
    ] {
        assert!(audit_text.contains(action), "{action} in the audit log");
    }
}

/// The reader id of the newest rejected comment's writer, from the queue's history link.
async fn queue_reader_id(site: &TestSite, cookie: &str) -> i64 {
    page_as(site, "/desk/comments?queue=rejected", cookie)
        .await
        .attr("a[href^='/desk/readers/']", "href")
        .trim_start_matches("/desk/readers/")
        .parse()
        .expect("reader id")
}

#[tokio::test]
async fn a_reader_downloads_their_data_and_deletes_their_account() {
    for (policy, expect_body) in [("anonymize", true), ("remove", false)] {
        let smtp = SmtpListener::start();
        let site = start(
            &smtp,
            &[TRUSTED, ("NEWSDESK_COMMENTS__ON_ACCOUNT_DELETION", policy)],
        );
        let item = lead_id(&site).await;
        let hana = new_reader(&site, &smtp, "hana@example.org", "Hana").await;
        let ivo = new_reader(&site, &smtp, "ivo@example.org", "Ivo").await;
        let mine = comment_id(&comment(&site, &hana, item, "Words I may take back.", None).await);
        comment(&site, &ivo, item, "An answer that stays.", Some(mine)).await;

        let export = site
            .client
            .get(site.url("/account/export"))
            .header("cookie", &hana)
            .send()
            .await
            .expect("export");
        assert_eq!(export.status(), 200);
        assert!(
            export.headers()["content-disposition"]
                .to_str()
                .unwrap_or_default()
                .contains("attachment")
        );
        let data: serde_json::Value = export.json().await.expect("json");
        assert_eq!(data["account"]["email"], "hana@example.org");
        assert_eq!(data["comments"][0]["body"], "Words I may take back.");
        // Other readers never see an address.
        assert!(
            !site
                .ok(&format!("/comments/{item}"))
                .await
                .text
                .contains("hana@example.org")
        );

        let profile = page_as(&site, "/account", &hana).await;
        let csrf = profile.attr("form input[name=csrf]", "value");
        let wrong = post_as(
            &site,
            "/account/delete",
            &hana,
            &[("csrf", &csrf), ("password", "not it")],
        )
        .await;
        assert_eq!(wrong.status, 422);
        let done = post_as(
            &site,
            "/account/delete",
            &hana,
            &[("csrf", &csrf), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(done.status, 200, "{policy}");
        assert_eq!(
            page_as(&site, "/account", &hana).await.status,
            303,
            "signed out"
        );
        let story = site
            .eventually(LEAD, SOON, |p| {
                !p.texts(".comment-author").contains(&"Hana".to_owned())
            })
            .await;
        assert_eq!(
            story.text.contains("Words I may take back."),
            expect_body,
            "{policy}"
        );
        assert!(
            story.text.contains("An answer that stays."),
            "{policy}: replies stay"
        );
        if expect_body {
            assert!(
                story
                    .texts(".comment-author")
                    .contains(&"A former reader".to_owned())
            );
        }
        let failed = post_account_form(
            &site,
            "/account/sign-in",
            "/account/sign-in",
            &[("email", "hana@example.org"), ("password", PASSWORD)],
        )
        .await;
        assert_eq!(failed.status(), 401, "the account is gone");
    }
}

#[tokio::test]
async fn teasers_show_comment_counts() {
    let smtp = SmtpListener::start();
    // Listings are not purged by comments; they expire after `cache.s_maxage`.
    let site = start(&smtp, &[TRUSTED, ("NEWSDESK_CACHE__S_MAXAGE", "1")]);
    let item = lead_id(&site).await;
    let before = site.ok("/world").await;
    assert!(
        before
            .select(&format!("a.comment-count[href='{LEAD}#comments']"))
            .is_empty()
    );
    let jo = new_reader(&site, &smtp, "jo@example.org", "Jo").await;
    for body in ["One.", "Two."] {
        assert_eq!(comment(&site, &jo, item, body, None).await.status, 303);
    }
    let listing = site
        .eventually("/world", Duration::from_secs(3), |p| {
            !p.select(&format!("a.comment-count[href='{LEAD}#comments']"))
                .is_empty()
        })
        .await;
    assert_eq!(
        listing.text_of(&format!("a.comment-count[href='{LEAD}#comments']")),
        "Comments: 2"
    );
}

/// One signed-in reader's way to post.
struct Poster {
    client: reqwest::Client,
    base: String,
    cookie: String,
    csrf: String,
}

/// Posts `count` comments as one reader: the first top-level, the rest replies to it.
/// Returns the acknowledged ones (id, parent) until the server stops answering.
async fn post_many(
    poster: Poster,
    item: i64,
    reader: usize,
    count: usize,
    acknowledged: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<(i64, Option<i64>)> {
    let Poster {
        client,
        base,
        cookie,
        csrf,
    } = poster;
    let mut done = Vec::new();
    let mut root = None;
    for n in 0..count {
        let body = format!("Reader {reader} says thing number {n}.");
        let key = format!("r{reader}-n{n}");
        let parent = root.map(|r: i64| r.to_string()).unwrap_or_default();
        let sent = client
            .post(format!("{base}/comments/{item}"))
            .header("cookie", &cookie)
            .form(&[
                ("csrf", csrf.as_str()),
                ("key", key.as_str()),
                ("body", body.as_str()),
                ("parent", parent.as_str()),
            ])
            .send()
            .await;
        let Ok(response) = sent else { break };
        if response.status() != 303 {
            break;
        }
        let id: i64 = response.headers()["location"]
            .to_str()
            .unwrap_or_default()
            .rsplit("#c")
            .next()
            .and_then(|id| id.parse().ok())
            .expect("an id");
        done.push((id, root));
        root.get_or_insert(id);
        acknowledged.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
    done
}

/// Every comment id on every page of the discussion, with the comment it answers.
async fn stored_threads(site: &TestSite, item: i64) -> std::collections::HashMap<i64, Option<i64>> {
    let mut found = std::collections::HashMap::new();
    let mut page = 1;
    loop {
        let html = site
            .ok(&format!("/comments/{item}?sort=oldest&page={page}"))
            .await;
        let tops = html.select("ol.comments > li");
        if tops.is_empty() {
            break;
        }
        for top in tops {
            let id: i64 = top
                .value()
                .attr("id")
                .and_then(|v| v[1..].parse().ok())
                .expect("id");
            assert!(found.insert(id, None).is_none(), "comment {id} shown twice");
            let replies = scraper::Selector::parse("ol.replies > li").expect("selector");
            for reply in top.select(&replies) {
                let rid: i64 = reply
                    .value()
                    .attr("id")
                    .and_then(|v| v[1..].parse().ok())
                    .expect("id");
                assert!(
                    found.insert(rid, Some(id)).is_none(),
                    "comment {rid} shown twice"
                );
            }
        }
        page += 1;
    }
    found
}

#[tokio::test]
async fn fifty_readers_posting_at_once_lose_nothing_acknowledged_even_through_a_kill() {
    fifty_readers_at_once(&[]).await;
}

#[tokio::test]
async fn fifty_readers_posting_at_once_on_postgresql_lose_nothing_either() {
    let Some(db) = common::PgDatabase::create() else {
        return;
    };
    fifty_readers_at_once(&[("NEWSDESK_DATABASE_URL", db.url.as_str())]).await;
}

async fn fifty_readers_at_once(backend: &[(&str, &str)]) {
    const READERS: usize = 50;
    const EACH: usize = 20;
    let smtp = SmtpListener::start();
    let mut limits = vec![
        TRUSTED,
        ("NEWSDESK_COMMENTS__PER_READER_PER_MINUTE", "1000"),
        ("NEWSDESK_COMMENTS__PER_ADDRESS_PER_MINUTE", "100000"),
        ("NEWSDESK_COMMENTS__MAX_DEPTH", "2"),
    ];
    limits.extend_from_slice(backend);
    let mut site = start(&smtp, &limits);
    let item = lead_id(&site).await;
    let mut readers = Vec::new();
    let signed_up = futures_util::future::join_all(
        (0..READERS)
            .map(|n| {
                let site = &site;
                let smtp = &smtp;
                async move {
                    new_reader(
                        site,
                        smtp,
                        &format!("r{n}@example.org"),
                        &format!("Reader {n}"),
                    )
                    .await
                }
            })
            .collect::<Vec<_>>(),
    )
    .await;
    for cookie in signed_up {
        let csrf = page_as(&site, &format!("/comments/{item}"), &cookie)
            .await
            .attr("#comment-form input[name=csrf]", "value");
        readers.push((cookie, csrf));
    }

    // Round one: everyone at once, to the end.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = readers
        .iter()
        .enumerate()
        .map(|(n, (cookie, csrf))| {
            tokio::spawn(post_many(
                Poster {
                    client: site.client.clone(),
                    base: site.base.clone(),
                    cookie: cookie.clone(),
                    csrf: csrf.clone(),
                },
                item,
                n,
                EACH,
                acknowledged.clone(),
            ))
        })
        .collect();
    let mut expected = std::collections::HashMap::new();
    for task in tasks {
        expected.extend(task.await.expect("task"));
    }
    assert_eq!(expected.len(), READERS * EACH, "every post acknowledged");
    assert_eq!(stored_threads(&site, item).await, expected);

    // Round two: the server is killed while posts are in flight.
    let acknowledged = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = readers
        .iter()
        .enumerate()
        .map(|(n, (cookie, csrf))| {
            tokio::spawn(post_many(
                Poster {
                    client: site.client.clone(),
                    base: site.base.clone(),
                    cookie: cookie.clone(),
                    csrf: csrf.clone(),
                },
                item,
                n + READERS,
                EACH,
                acknowledged.clone(),
            ))
        })
        .collect();
    while acknowledged.load(std::sync::atomic::Ordering::SeqCst) < READERS * EACH / 2 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    site.kill_hard();
    for task in tasks {
        expected.extend(task.await.expect("task"));
    }
    assert!(
        expected.len() >= READERS * EACH * 3 / 2,
        "half of round two was acknowledged"
    );
    let site = site.restart(&[]);
    let stored = stored_threads(&site, item).await;
    for (id, parent) in &expected {
        assert_eq!(
            stored.get(id),
            Some(parent),
            "acknowledged comment {id} kept in its thread"
        );
    }
}

#[tokio::test]
async fn deep_threads_continue_on_their_own_view_staff_wear_a_badge_and_old_stories_close() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[TRUSTED, ("NEWSDESK_COMMENTS__MAX_DEPTH", "2")]);
    let item = lead_id(&site).await;
    // A verified reader whose address is also a staff account's is staff.
    site.add_user("desk@example.org", "editor", "correct horse battery");
    let staff = new_reader(&site, &smtp, "desk@example.org", "The desk").await;
    let lena = new_reader(&site, &smtp, "lena@example.org", "Lena").await;

    let top = comment_id(
        &comment(
            &site,
            &staff,
            item,
            "Thanks for reading; ask us anything.",
            None,
        )
        .await,
    );
    let reply =
        comment_id(&comment(&site, &lena, item, "When do the gates open?", Some(top)).await);
    let deep = comment_id(
        &comment(
            &site,
            &staff,
            item,
            "At dawn, the authority says.",
            Some(reply),
        )
        .await,
    );
    let story = site
        .eventually(LEAD, SOON, |p| p.text.contains("When do the gates open?"))
        .await;
    assert_eq!(story.text_of(&format!("#c{top} > article .badge")), "Staff");
    assert!(
        story
            .select(&format!("#c{reply} > article .badge"))
            .is_empty()
    );
    // Two levels shown; the third continues on the thread's own view.
    assert!(story.select(&format!("#c{deep}")).is_empty());
    let more = story.attr(&format!("#c{reply} .continues a"), "href");
    assert_eq!(more, format!("/comments/{item}?thread={reply}"));
    let thread = site.ok(&more).await;
    assert_eq!(
        thread.select(&format!("#c{reply} .replies #c{deep}")).len(),
        1
    );

    // The demo closes comments 14 days after a story was first published.
    site.import_ok(
        r#"
[[items]]
kind = "story"
section = "world"
slug = "an-old-story"
headline = "An old story"
body = "Written three weeks ago."
status = "published"
published_at = "2026-11-01T08:00:00Z"
"#,
    );
    let old = site.ok("/world/an-old-story").await;
    let old_id: i64 = old
        .attr("a.join", "href")
        .trim_start_matches("/comments/")
        .parse()
        .expect("id");
    assert_eq!(old.text_of("a.join"), "Read the discussion");
    let discussion = page_as(&site, &format!("/comments/{old_id}"), &lena).await;
    assert!(
        discussion
            .text
            .contains("Comments on this story are closed.")
    );
}

#[tokio::test]
async fn without_an_smtp_server_mail_goes_to_the_outbox() {
    let site = TestSite::start_with(common::demo_config_text(), &["--demo"], &[]);
    let form = site.get("/account/sign-up").await;
    let cookie = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("nd_rform="))
        .and_then(|v| v.split(';').next())
        .expect("form cookie")
        .to_owned();
    let html = form.text().await.expect("body");
    let csrf = scraper::Html::parse_document(&html)
        .select(&scraper::Selector::parse("input[name=csrf]").expect("selector"))
        .next()
        .and_then(|e| e.value().attr("value").map(str::to_owned))
        .expect("csrf");
    let response = site
        .client
        .post(site.url("/account/sign-up"))
        .header("cookie", cookie)
        .form(&[
            ("csrf", csrf.as_str()),
            ("email", "olga@example.org"),
            ("display_name", "Olga"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 200);
    // The mail is written after the answer: wait for it.
    let outbox = site.data_dir().join("outbox");
    let started = std::time::Instant::now();
    let mail: Vec<String> = loop {
        let mail: Vec<String> = std::fs::read_dir(&outbox)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .filter(|m| m.replace("=\r\n", "").contains("/account/verify/"))
            .collect();
        if !mail.is_empty() || started.elapsed() > std::time::Duration::from_secs(5) {
            break mail;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("To: olga@example.org"), "{}", mail[0]);
    assert!(
        mail[0].replace("=\r\n", "").contains("/account/verify/"),
        "{}",
        mail[0]
    );
}

/// Signs up without following the mailed link, then signs in; returns the reader's cookie.
async fn unconfirmed_reader(site: &TestSite, email: &str) -> String {
    let signed_up = post_account_form(
        site,
        "/account/sign-up",
        "/account/sign-up",
        &[
            ("email", email),
            ("display_name", "Nobody"),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(signed_up.status(), 200);
    sign_in(site, email, PASSWORD).await
}

/// Signs a reader in through the API: their token and id.
async fn api_reader(site: &TestSite, email: &str) -> (String, i64) {
    let signed: serde_json::Value = site
        .client
        .post(site.url("/api/v1/auth/sign-in"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("sign in")
        .json()
        .await
        .expect("json");
    (
        signed["token"].as_str().expect("token").to_owned(),
        signed["reader"]["id"].as_i64().expect("id"),
    )
}

/// Likes or reports `comment` through the API: the status and the error's message.
async fn api_act(site: &TestSite, token: &str, comment: i64, action: &str) -> (u16, String) {
    let response = site
        .client
        .post(site.url(&format!("/api/v1/comments/{comment}/{action}")))
        .bearer_auth(token)
        .json(&serde_json::json!({"reason": "Breaks the rules"}))
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    (
        status,
        body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

/// Likes or reports `comment` with the discussion page's form.
async fn site_act(site: &TestSite, cookie: &str, item: i64, comment: i64, action: &str) -> Page {
    let csrf = page_as(site, &format!("/comments/{item}"), cookie)
        .await
        .attr("form[action$='/like'] input[name=csrf]", "value");
    post_as(
        site,
        &format!("/comments/c/{comment}/{action}"),
        cookie,
        &[("csrf", &csrf), ("reason", "Breaks the rules")],
    )
    .await
}

async fn public_status(site: &TestSite, comment: i64) -> u16 {
    site.get(&format!("/api/v1/comments/{comment}"))
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn only_confirmed_readers_in_good_standing_like_and_report_and_an_approval_raises_the_bar() {
    let smtp = SmtpListener::start();
    let site = start(
        &smtp,
        &[TRUSTED, ("NEWSDESK_COMMENTS__REPORTS_TO_HOLD", "2")],
    );
    site.add_user("mod@example.org", "moderator", "correct horse battery");
    let moderator = site
        .desk_cookie("mod@example.org", "correct horse battery")
        .await;
    let desk = desk_csrf(&site, &moderator).await;
    let item = lead_id(&site).await;
    let ana = new_reader(&site, &smtp, "ana@example.org", "Ana").await;
    let target = comment_id(&comment(&site, &ana, item, "A comment worth keeping.", None).await);
    let other = comment_id(&comment(&site, &ana, item, "Another one, for likes.", None).await);

    // Readers who never confirmed their address neither report nor like, on the site or
    // through the API, however many of them there are.
    for n in 0..3 {
        let email = format!("unconfirmed{n}@example.org");
        let cookie = unconfirmed_reader(&site, &email).await;
        let (token, _) = api_reader(&site, &email).await;
        for action in ["report", "like"] {
            let page = site_act(&site, &cookie, item, target, action).await;
            assert_eq!(page.status, 403, "{action} by {email}");
            assert!(
                page.text_of(".form-error").contains("Confirm your address"),
                "{}",
                page.text_of(".form-error")
            );
            let (status, message) = api_act(&site, &token, target, action).await;
            assert_eq!(status, 403, "API {action} by {email}");
            assert!(message.contains("Confirm your address"), "{message}");
        }
    }
    assert_eq!(public_status(&site, target).await, 200, "still public");
    let likes = page_as(&site, &format!("/comments/{item}"), &ana).await;
    assert_eq!(
        likes.text_of(&format!("#c{target} > article .likes")),
        "0 likes"
    );

    // Two confirmed readers hold it; a moderator approves it again.
    let ben = new_reader(&site, &smtp, "ben@example.org", "Ben").await;
    let cleo = new_reader(&site, &smtp, "cleo@example.org", "Cleo").await;
    for reader in [&ben, &cleo] {
        assert_eq!(
            site_act(&site, reader, item, target, "report").await.status,
            303
        );
    }
    assert_eq!(
        public_status(&site, target).await,
        404,
        "held by two reports"
    );
    let approve = |id: i64| {
        let (site, moderator, desk) = (&site, &moderator, &desk);
        async move {
            post_as(
                site,
                &format!("/desk/comments/{id}/decide"),
                moderator,
                &[("csrf", desk), ("decision", "approve")],
            )
            .await
            .status
        }
    };
    assert_eq!(approve(target).await, 303);
    assert_eq!(public_status(&site, target).await, 200);

    // The approval answered those reports: reporting again does not hide it, and neither
    // does one new reader; as many new readers as it took the first time do.
    for reader in [&ben, &cleo] {
        assert_eq!(
            site_act(&site, reader, item, target, "report").await.status,
            303
        );
    }
    let dora = new_reader(&site, &smtp, "dora@example.org", "Dora").await;
    assert_eq!(
        site_act(&site, &dora, item, target, "report").await.status,
        303
    );
    assert_eq!(public_status(&site, target).await, 200, "one new report");
    let emil = new_reader(&site, &smtp, "emil@example.org", "Emil").await;
    assert_eq!(
        site_act(&site, &emil, item, target, "report").await.status,
        303
    );
    assert_eq!(public_status(&site, target).await, 404, "two new reports");

    // Suspended and banned readers neither like nor report.
    for (email, standing) in [
        ("fay@example.org", "suspended"),
        ("gus@example.org", "banned"),
    ] {
        let cookie = new_reader(&site, &smtp, email, "Reader").await;
        let (token, id) = api_reader(&site, email).await;
        assert_eq!(api_act(&site, &token, other, "like").await.0, 200);
        assert_eq!(api_act(&site, &token, other, "like").await.0, 200);
        let changed = post_as(
            &site,
            &format!("/desk/readers/{id}/standing"),
            &moderator,
            &[("csrf", &desk), ("status", standing)],
        )
        .await;
        assert_eq!(changed.status, 303);
        for action in ["like", "report"] {
            let page = site_act(&site, &cookie, item, other, action).await;
            assert_eq!(page.status, 403, "{action} when {standing}");
            assert!(
                page.text_of(".form-error").contains(standing),
                "{}",
                page.text_of(".form-error")
            );
            let (status, message) = api_act(&site, &token, other, action).await;
            assert_eq!(status, 403, "API {action} when {standing}");
            assert!(message.contains(standing), "{message}");
        }
    }
    let likes = page_as(&site, &format!("/comments/{item}"), &ana).await;
    assert_eq!(
        likes.text_of(&format!("#c{other} > article .likes")),
        "0 likes"
    );
}

#[tokio::test]
async fn likes_purge_no_page_and_likes_and_reports_are_limited_per_reader() {
    let smtp = SmtpListener::start();
    let site = start(
        &smtp,
        &[
            TRUSTED,
            ("NEWSDESK_COMMENTS__LIKES_PER_MINUTE", "50"),
            ("NEWSDESK_COMMENTS__REPORTS_PER_HOUR", "2"),
            ("NEWSDESK_COMMENTS__REPORTS_TO_HOLD", "100"),
        ],
    );
    let item = lead_id(&site).await;
    let ana = new_reader(&site, &smtp, "ana@example.org", "Ana").await;
    let ids: Vec<i64> = {
        let mut ids = Vec::new();
        for body in ["First.", "Second.", "Third."] {
            ids.push(comment_id(&comment(&site, &ana, item, body, None).await));
        }
        ids
    };
    let ben = new_reader(&site, &smtp, "ben@example.org", "Ben").await;
    let events = site.count_rows("events").await;

    // The uncached discussion page shows a like at once.
    assert_eq!(
        site_act(&site, &ben, item, ids[0], "like").await.status,
        303
    );
    let discussion = page_as(&site, &format!("/comments/{item}"), &ben).await;
    assert_eq!(
        discussion.text_of(&format!("#c{} > article .likes", ids[0])),
        "1 like"
    );
    // Fifty likes and unlikes in all append no event; the fifty-first is one too many.
    for n in 1..50 {
        let done = site_act(&site, &ben, item, ids[0], "like").await;
        assert_eq!(done.status, 303, "like number {}", n + 1);
    }
    assert_eq!(
        site.count_rows("events").await,
        events,
        "likes purge no page"
    );
    let refused = site_act(&site, &ben, item, ids[0], "like").await;
    assert_eq!(refused.status, 429);
    let wait: u64 = refused.header("retry-after").parse().expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(
        refused.text_of(".form-error").contains("Try again in"),
        "{}",
        refused.text_of(".form-error")
    );
    let discussion = page_as(&site, &format!("/comments/{item}"), &ben).await;
    assert_eq!(
        discussion.text_of(&format!("#c{} > article .likes", ids[0])),
        "0 likes"
    );

    // Sixty likes at once from one reader: exactly the limit gets through.
    let cleo_cookie = new_reader(&site, &smtp, "cleo@example.org", "Cleo").await;
    let (cleo, _) = api_reader(&site, "cleo@example.org").await;
    let answers =
        futures_util::future::join_all((0..60).map(|n| api_act(&site, &cleo, ids[n % 3], "like")))
            .await;
    let count = |status: u16| answers.iter().filter(|(s, _)| *s == status).count();
    assert_eq!((count(200), count(429)), (50, 10), "{answers:?}");
    assert_eq!(
        site.count_rows("events").await,
        events,
        "likes purge no page"
    );

    // Reports: two an hour per reader, in turn or at once.
    assert_eq!(
        site_act(&site, &ben, item, ids[1], "report").await.status,
        303
    );
    assert_eq!(
        site_act(&site, &ben, item, ids[2], "report").await.status,
        303
    );
    let refused = site_act(&site, &ben, item, ids[0], "report").await;
    assert_eq!(refused.status, 429);
    assert!(!refused.header("retry-after").is_empty());
    let answers = futures_util::future::join_all(
        (0..30).map(|n| api_act(&site, &cleo, ids[n % 3], "report")),
    )
    .await;
    let count = |status: u16| answers.iter().filter(|(s, _)| *s == status).count();
    assert_eq!((count(200), count(429)), (2, 28), "{answers:?}");
    // One limit per reader, whether they like on the site or through the API; another
    // reader's likes are their own.
    assert_eq!(
        site_act(&site, &cleo_cookie, item, ids[0], "like")
            .await
            .status,
        429
    );
    let dora = new_reader(&site, &smtp, "dora@example.org", "Dora").await;
    assert_eq!(
        site_act(&site, &dora, item, ids[0], "like").await.status,
        303
    );
}

#[tokio::test]
async fn a_comment_is_public_only_while_its_story_is_published() {
    let smtp = SmtpListener::start();
    let site = start(&smtp, &[TRUSTED]);
    let story = |status: &str| {
        format!(
            r#"
[[items]]
kind = "story"
section = "world"
slug = "ferry-pier-reopens"
headline = "Ferry pier reopens"
body = "The pier reopened at dawn."
status = "{status}"
"#
        )
    };
    site.import_ok(&story("published"));
    let page = site
        .eventually("/world/ferry-pier-reopens", SOON, |p| p.status == 200)
        .await;
    let item: i64 = page
        .attr("a.join", "href")
        .trim_start_matches("/comments/")
        .parse()
        .expect("id");
    let ana = new_reader(&site, &smtp, "ana@example.org", "Ana").await;
    let top = comment_id(&comment(&site, &ana, item, "Good news for the island.", None).await);
    let reply = comment_id(&comment(&site, &ana, item, "And for the cafés.", Some(top)).await);
    let lead = lead_id(&site).await;
    let paths = [
        format!("/comments/{item}?thread={top}"),
        format!("/api/v1/comments/{top}"),
        format!("/api/v1/comments/{reply}"),
    ];
    for path in &paths {
        let response = site.get(path).await;
        assert_eq!(response.status(), 200, "{path} while published");
        assert!(response.text().await.expect("body").contains("cafés"));
    }
    // A thread shows under its own story only.
    assert_eq!(
        site.get(&format!("/comments/{lead}?thread={top}"))
            .await
            .status(),
        404
    );

    site.import_ok(&story("unpublished"));
    site.eventually("/world/ferry-pier-reopens", SOON, |p| p.status == 410)
        .await;
    for path in &paths {
        assert_eq!(
            site.get(path).await.status(),
            404,
            "{path} once unpublished"
        );
    }
    // Not even its writer reads it there, nor likes it.
    assert_eq!(page_as(&site, &paths[0], &ana).await.status, 404);
    let (token, _) = api_reader(&site, "ana@example.org").await;
    assert_eq!(api_act(&site, &token, reply, "like").await.0, 404);
    assert_eq!(
        site.get(&format!("/comments/{lead}?thread={top}"))
            .await
            .status(),
        404
    );
}
