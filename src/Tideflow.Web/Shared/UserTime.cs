namespace Tideflow.Web.Shared;

/// <summary>Instants are stored in UTC and shown in the viewer's time zone.</summary>
public static class UserTime
{
    public static string Format(DateTimeOffset? instant, string timeZone)
    {
        if (instant is null)
        {
            return "";
        }
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var tz) ? tz : TimeZoneInfo.Utc;
        return TimeZoneInfo.ConvertTime(instant.Value, zone).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The instant a calendar day starts in the user's time zone (a date picked in the UI means their day).</summary>
    public static DateTimeOffset StartOfDay(DateTime date, string timeZone) => At(date, TimeSpan.Zero, timeZone);

    /// <summary>The instant a wall-clock time on a day means in the user's time zone (daylight saving included).</summary>
    public static DateTimeOffset At(DateTime date, TimeSpan time, string timeZone)
    {
        var zone = TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var tz) ? tz : TimeZoneInfo.Utc;
        var local = DateTime.SpecifyKind(date.Date + time, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, zone.GetUtcOffset(local)).ToUniversalTime();
    }
}
