/*
 * oauth_pages.c — the HTML the sim "browser" sees during sign-in: account
 * picker, e-mail, password, consent, device-code entry and messages.
 * Element ids and field names follow Microsoft's real sign-in page
 * (loginfmt/i0116, passwd/i0118, idSIButton9, idBtn_Back, otc) so browser
 * tests written against login.microsoftonline.com work here too.
 */
#include <stdio.h>
#include <string.h>
#include "oauth_internal.h"

static void head(struct buf *b, const char *title)
{
	buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>", NULL);
	sim_html_escape(b, title);
	buf_puts(b, "</title><style>body{font-family:Segoe UI,Arial,sans-serif;background:#f2f2f2}"
		    ".box{background:#fff;max-width:440px;margin:60px auto;padding:44px;"
		    "box-shadow:0 2px 6px rgba(0,0,0,.2)}input[type=email],input[type=password],"
		    "input[type=text]{width:100%;padding:6px;margin:8px 0;font-size:15px}"
		    ".err{color:#e81123}.tile{display:block;width:100%;text-align:left;padding:10px;"
		    "margin:4px 0;background:#fff;border:1px solid #ccc;cursor:pointer}"
		    ".btns{margin-top:20px;text-align:right}</style></head><body><div class=\"box\">"
		    "<div class=\"logo\">Microsoft (m365sim)</div>\n", NULL);
}

static void tail(struct sim_resp *rs, struct buf *b, int status)
{
	buf_puts(b, "</div></body></html>\n", NULL);
	rs_text(rs, status, "text/html; charset=utf-8", buf_str(b), b->len);
	buf_free(b);
}

static void form_open(struct buf *b, const char *action, const struct oa_txn *t,
		      const char *step)
{
	buf_puts(b, "<form method=\"post\" action=\"", NULL);
	sim_html_escape(b, action);
	buf_puts(b, "\"><input type=\"hidden\" name=\"txn\" value=\"", NULL);
	sim_html_escape(b, t->id);
	buf_printf(b, NULL, "\"><input type=\"hidden\" name=\"step\" value=\"%s\">", step);
}

static void error_line(struct buf *b, const char *error)
{
	if (!error)
		return;
	buf_puts(b, "<div class=\"err\" id=\"usernameError\" role=\"alert\">", NULL);
	sim_html_escape(b, error);
	buf_puts(b, "</div>", NULL);
}

void idp_page_account_picker(struct sim_resp *rs, const struct oa_txn *t,
			 const struct oa_session *s, const char *action)
{
	struct buf b;

	buf_init(&b, 0);
	head(&b, "Sign in to your account");
	buf_puts(&b, "<div role=\"heading\" id=\"pickerTitle\">Pick an account</div>", NULL);
	for (size_t i = 0; s && i < s->n; i++) {
		form_open(&b, action, t, "pick");
		buf_puts(&b, "<input type=\"hidden\" name=\"loginfmt\" value=\"", NULL);
		sim_html_escape(&b, s->users[i]->email);
		buf_puts(&b, "\"><button type=\"submit\" class=\"tile\" data-test-id=\"", NULL);
		sim_html_escape(&b, s->users[i]->email);
		buf_puts(&b, "\"><b>", NULL);
		sim_html_escape(&b, s->users[i]->name);
		buf_puts(&b, "</b><br><small>", NULL);
		sim_html_escape(&b, s->users[i]->email);
		buf_puts(&b, "</small></button></form>", NULL);
	}
	form_open(&b, action, t, "pick");
	buf_puts(&b, "<input type=\"hidden\" name=\"loginfmt\" value=\"\">"
		     "<button type=\"submit\" class=\"tile\" id=\"otherTile\">Use another account</button>"
		     "</form>", NULL);
	tail(rs, &b, 200);
}

void idp_page_email(struct sim_resp *rs, const struct oa_txn *t,
		const char *action, const char *error)
{
	struct buf b;

	buf_init(&b, 0);
	head(&b, "Sign in to your account");
	buf_puts(&b, "<div role=\"heading\" id=\"loginHeader\">Sign in</div>", NULL);
	error_line(&b, error);
	form_open(&b, action, t, "email");
	buf_puts(&b, "<input type=\"email\" name=\"loginfmt\" id=\"i0116\" "
		     "placeholder=\"Email, phone, or Skype\" autocomplete=\"username\" value=\"", NULL);
	sim_html_escape(&b, t->login_hint ? t->login_hint : "");
	buf_puts(&b, "\"><div class=\"btns\">"
		     "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"idBtn_Back\" formnovalidate>Back</button> "
		     "<input type=\"submit\" id=\"idSIButton9\" value=\"Next\"></div></form>", NULL);
	tail(rs, &b, 200);
}

void idp_page_password(struct sim_resp *rs, const struct oa_txn *t,
		   const char *action, const char *error)
{
	struct buf b;

	buf_init(&b, 0);
	head(&b, "Sign in to your account");
	buf_puts(&b, "<div id=\"displayName\">", NULL);
	sim_html_escape(&b, t->user ? t->user->email : "");
	buf_puts(&b, "</div><div role=\"heading\" id=\"loginHeader\">Enter password</div>", NULL);
	error_line(&b, error);
	form_open(&b, action, t, "password");
	buf_puts(&b, "<input type=\"password\" name=\"passwd\" id=\"i0118\" "
		     "placeholder=\"Password\" autocomplete=\"current-password\">"
		     "<div class=\"btns\">"
		     "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"idBtn_Back\">Back</button> "
		     "<input type=\"submit\" id=\"idSIButton9\" value=\"Sign in\"></div></form>", NULL);
	tail(rs, &b, 200);
}

void idp_page_consent(struct sim_resp *rs, const struct oa_txn *t,
		  const struct sim_app *app, const char *action)
{
	struct buf b;
	size_t i;
	json_t *v;

	buf_init(&b, 0);
	head(&b, "Permissions requested");
	buf_puts(&b, "<div role=\"heading\" id=\"consentHeader\">Permissions requested</div><p><b id=\"appName\">", NULL);
	sim_html_escape(&b, app ? app->name : t->client_id);
	buf_puts(&b, "</b> needs your permission to:</p><ul id=\"scopes\">", NULL);
	json_array_foreach(t->scopes, i, v) {
		buf_puts(&b, "<li class=\"scope\">", NULL);
		sim_html_escape(&b, json_string_value(v));
		buf_puts(&b, "</li>", NULL);
	}
	buf_puts(&b, "</ul><p>Signed in as <span id=\"consentUser\">", NULL);
	sim_html_escape(&b, t->user ? t->user->email : "");
	buf_puts(&b, "</span></p>", NULL);
	form_open(&b, action, t, "consent");
	buf_puts(&b, "<div class=\"btns\">"
		     "<button type=\"submit\" name=\"action\" value=\"cancel\" id=\"idBtn_Back\">Cancel</button> "
		     "<button type=\"submit\" name=\"action\" value=\"accept\" id=\"idSIButton9\">Accept</button>"
		     "</div></form>", NULL);
	tail(rs, &b, 200);
}

void idp_page_message(struct sim_resp *rs, int status, const char *title,
		  const char *text)
{
	struct buf b;

	buf_init(&b, 0);
	head(&b, title);
	buf_puts(&b, "<div role=\"heading\" id=\"messageTitle\">", NULL);
	sim_html_escape(&b, title);
	buf_puts(&b, "</div><p id=\"message\">", NULL);
	sim_html_escape(&b, text);
	buf_puts(&b, "</p>", NULL);
	tail(rs, &b, status);
}

void idp_page_device_code(struct sim_resp *rs, const char *error)
{
	struct buf b;

	buf_init(&b, 0);
	head(&b, "Enter code");
	buf_puts(&b, "<div role=\"heading\" id=\"codeHeader\">Enter code</div>"
		     "<p>Enter the code displayed on your app or device.</p>", NULL);
	error_line(&b, error);
	buf_puts(&b, "<form method=\"post\" action=\"/_sim/device\">"
		     "<input type=\"text\" name=\"otc\" id=\"otc\" placeholder=\"Code\" autocomplete=\"off\">"
		     "<div class=\"btns\"><input type=\"submit\" id=\"idSIButton9\" value=\"Next\"></div></form>", NULL);
	tail(rs, &b, 200);
}

void idp_page_form_post(struct sim_resp *rs, const char *uri,
		    const struct sim_kvlist *fields)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, "<!DOCTYPE html><html><head><title>Working...</title></head>"
		     "<body onload=\"document.forms[0].submit()\"><form method=\"POST\" name=\"hiddenform\" action=\"", NULL);
	sim_html_escape(&b, uri);
	buf_puts(&b, "\">", NULL);
	for (size_t i = 0; i < fields->n; i++) {
		buf_puts(&b, "<input type=\"hidden\" name=\"", NULL);
		sim_html_escape(&b, fields->v[i].key);
		buf_puts(&b, "\" value=\"", NULL);
		sim_html_escape(&b, fields->v[i].val);
		buf_puts(&b, "\">", NULL);
	}
	buf_puts(&b, "<noscript><input type=\"submit\" value=\"Continue\"></noscript></form></body></html>\n", NULL);
	rs_text(rs, 200, "text/html; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}
