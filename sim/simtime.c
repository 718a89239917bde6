/*
 * simtime.c — the simulator's clock and date text (see simtime.h). Parsing
 * is GLib's g_date_time_new_from_iso8601 behind a shape check; formatting
 * breaks a time into civil fields with H. Hinnant's days-to-civil algorithm
 * (pages format two or three dates per message, so no allocation and no
 * gmtime/strftime on that path), falling back to GDateTime outside the
 * years 1970..9999.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include "simtime.h"

int64_t simtime_now(void)
{
	return (int64_t)(g_get_real_time() / G_USEC_PER_SEC);
}

int64_t simtime_mono_ms(void)
{
	return (int64_t)(g_get_monotonic_time() / 1000);
}

/* "YYYY-MM-DDTHH:MM:SS" at the start: the calendar-date form Graph takes
 * (GLib also reads week and ordinal dates, which Graph does not). */
static bool calendar_shape(const char *s)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd";

	for (size_t i = 0; i < sizeof(shape) - 1; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
			return false;
	return true;
}

/* Ticks of the fraction after "HH:MM:SS" (digits past the seventh are
 * dropped, as Exchange keeps 100 ns). */
static uint32_t fraction_ticks(const char *s)
{
	const char *dot = strlen(s) > 19 && s[19] == '.' ? s + 20 : NULL;
	uint32_t v = 0, scale = SIMTIME_TICKS_PER_S;

	if (!dot)
		return 0;
	for (; isdigit((unsigned char)*dot) && scale > 1; dot++) {
		scale /= 10;
		v += (uint32_t)(*dot - '0') * scale;
	}
	return v;
}

int simtime_parse(const char *s, int64_t *secs, uint32_t *ticks)
{
	GTimeZone *utc;
	GDateTime *dt;

	if (!s || strlen(s) < 19 || strlen(s) > 64 || !calendar_shape(s))
		return -1;
	utc = g_time_zone_new_utc();
	dt = g_date_time_new_from_iso8601(s, utc);
	g_time_zone_unref(utc);
	if (!dt)
		return -1;
	*secs = (int64_t)g_date_time_to_unix(dt);
	g_date_time_unref(dt);
	if (ticks)
		*ticks = fraction_ticks(s);
	return 0;
}

uint32_t simtime_fraction(int64_t t)
{
	/* Knuth's multiplicative hash: varied digits, never 0. */
	uint64_t h = (uint64_t)t * 2654435761u;

	return (uint32_t)(h % (SIMTIME_TICKS_PER_S - 1)) + 1;
}

bool simtime_bound_inclusive(int64_t t, uint32_t ticks, bool fraction,
			     int cmp, bool inclusive)
{
	uint32_t own = fraction ? simtime_fraction(t) : 0;

	if (cmp > 0)
		return inclusive ? own >= ticks : own > ticks;
	return inclusive ? own <= ticks : own < ticks;
}

struct civil {
	int year, month, day, hour, minute, second, weekday; /* weekday 0 = Sunday */
};

static void civil_of(int64_t t, struct civil *c)
{
	if (t >= 0 && t <= 253402300799LL) {   /* 1970..9999 */
		int64_t days = t / 86400, secs = t % 86400;
		int64_t z = days + 719468, era = z / 146097;
		int64_t doe = z - era * 146097;
		int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		int64_t mp = (5 * doy + 2) / 153;

		c->day = (int)(doy - (153 * mp + 2) / 5 + 1);
		c->month = (int)(mp < 10 ? mp + 3 : mp - 9);
		c->year = (int)(yoe + era * 400 + (c->month <= 2));
		c->hour = (int)(secs / 3600);
		c->minute = (int)(secs / 60 % 60);
		c->second = (int)(secs % 60);
		c->weekday = (int)((days + 4) % 7);   /* 1970-01-01 was a Thursday */
	} else {
		GDateTime *dt = g_date_time_new_from_unix_utc((gint64)t);

		if (!dt)   /* beyond GLib's range (year 1..9999): clamp */
			dt = g_date_time_new_from_unix_utc(t < 0 ? -62135596800LL : 253402300799LL);
		g_date_time_get_ymd(dt, &c->year, &c->month, &c->day);
		c->hour = g_date_time_get_hour(dt);
		c->minute = g_date_time_get_minute(dt);
		c->second = g_date_time_get_second(dt);
		c->weekday = g_date_time_get_day_of_week(dt) % 7;
		g_date_time_unref(dt);
	}
}

static char *put_digits(char *o, unsigned v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		o[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return o + width;
}

/* "YYYY-MM-DD" + sep + "HH:MM:SS"; returns the end. */
static char *put_date_time(char *o, const struct civil *c, char sep)
{
	o = put_digits(o, (unsigned)c->year, 4);
	*o++ = '-';
	o = put_digits(o, (unsigned)c->month, 2);
	*o++ = '-';
	o = put_digits(o, (unsigned)c->day, 2);
	*o++ = sep;
	o = put_digits(o, (unsigned)c->hour, 2);
	*o++ = ':';
	o = put_digits(o, (unsigned)c->minute, 2);
	*o++ = ':';
	return put_digits(o, (unsigned)c->second, 2);
}

void simtime_format(int64_t t, bool fraction, char out[SIMTIME_LEN])
{
	struct civil c;
	char *o;

	civil_of(t, &c);
	o = put_date_time(out, &c, 'T');
	if (fraction) {
		*o++ = '.';
		o = put_digits(o, simtime_fraction(t), 7);
	}
	*o++ = 'Z';
	*o = '\0';
}

void simtime_format_oauth(int64_t t, char out[SIMTIME_LEN])
{
	struct civil c;
	char *o;

	civil_of(t, &c);
	o = put_date_time(out, &c, ' ');
	*o++ = 'Z';
	*o = '\0';
}

void simtime_format_graph_inner(int64_t t, char out[SIMTIME_LEN])
{
	struct civil c;

	civil_of(t, &c);
	*put_date_time(out, &c, 'T') = '\0';
}

void simtime_format_http(int64_t t, char out[SIMTIME_LEN])
{
	static const char days[7][4] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct civil c;

	civil_of(t, &c);
	snprintf(out, SIMTIME_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[c.weekday],
		 c.day, months[c.month - 1], c.year, c.hour, c.minute, c.second);
}
