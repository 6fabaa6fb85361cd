namespace Tideflow.Web.Shared;

/// <summary>Instants are stored in UTC and shown in the viewer's time zone.</summary>
public static class UserTime
{
    /// <summary>The time zones the pages offer; the API takes any IANA name.</summary>
    public static readonly string[] Common = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "Asia/Tokyo", "Europe/London",
        "Europe/Berlin", "America/New_York", "America/Los_Angeles", "UTC"];

    public static string Format(DateTimeOffset? instant, string timeZone)
    {
        if (instant is null)
        {
            return "";
        }
        return TimeZoneInfo.ConvertTime(instant.Value, Zone(timeZone)).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The instant a calendar day starts in the user's time zone (a date picked in the UI means their day).</summary>
    public static DateTimeOffset StartOfDay(DateTime date, string timeZone) => At(date, TimeSpan.Zero, timeZone);

    /// <summary>The instant a wall-clock time on a day means in the user's time zone (daylight saving included).</summary>
    public static DateTimeOffset At(DateTime date, TimeSpan time, string timeZone)
    {
        var zone = Zone(timeZone);
        var local = DateTime.SpecifyKind(date.Date + time, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }

    /// <summary>The wall-clock time of an instant in the user's time zone.</summary>
    public static DateTime Local(DateTimeOffset instant, string timeZone) => TimeZoneInfo.ConvertTime(instant, Zone(timeZone)).DateTime;

    /// <summary>The user's time zone; UTC when the id is unknown on this machine.</summary>
    public static TimeZoneInfo Zone(string timeZone) => TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var tz) ? tz : TimeZoneInfo.Utc;
}
