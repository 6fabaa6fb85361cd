using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Tideflow.Domain.Access;
using Tideflow.Web.Shared;

namespace Tideflow.Web.Tests.Shared;

/// <summary>Keeps Strings.resx (English) and Strings.zh-CN.resx complete and consistent with the UI.</summary>
public sealed partial class LocalizationTests
{
    private static readonly string RepoRoot = FindRepoRoot();
    private static readonly string WebDir = Path.Combine(RepoRoot, "src", "Tideflow.Web");
    private static readonly Dictionary<string, string> English = Load("Strings.resx");
    private static readonly Dictionary<string, string> Chinese = Load("Strings.zh-CN.resx");

    [Fact]
    public void Both_languages_have_the_same_keys_and_no_empty_values()
    {
        Assert.NotEmpty(English);
        Assert.Equal(English.Keys.Order(StringComparer.Ordinal), Chinese.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(English.Where(e => string.IsNullOrWhiteSpace(e.Value)).Select(e => e.Key));
        Assert.Empty(Chinese.Where(e => string.IsNullOrWhiteSpace(e.Value)).Select(e => e.Key));
    }

    [Fact]
    public void Every_key_used_in_a_razor_component_exists_in_both_languages()
    {
        var used = Directory.EnumerateFiles(WebDir, "*.razor", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(d => d is "bin" or "obj"))
            .SelectMany(f => LiteralKey().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("Customers", used);
        Assert.Empty(used.Where(k => !English.ContainsKey(k)).Order(StringComparer.Ordinal));
        Assert.Empty(used.Where(k => !Chinese.ContainsKey(k)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_role_scope_lead_status_channel_kind_and_problem_has_a_label_in_both_languages()
    {
        var keys = Enum.GetValues<Role>().Select(r => $"Role{r}")
            .Concat(Enum.GetValues<ScopeLevel>().Select(s => $"Scope{s}"))
            .Concat(Enum.GetValues<Tideflow.Web.Features.Leads.LeadStatus>().Select(s => $"LeadStatus{s}"))
            .Concat(Enum.GetValues<Tideflow.Web.Features.Leads.ChannelKind>().Select(k => $"ChannelKind{k}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Leads.ContactProblem>().Select(p => $"Problem{p}"))
            .Concat(Enum.GetValues<Tideflow.Web.Features.Leads.ImportStatus>().Select(s => $"ImportStatus{s}"))
            .Concat(Tideflow.Web.Features.Leads.ImportLeads.Fields.Select(f => $"Field_{f}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Assignment.AssignTo>().Select(t => $"AssignTo{t}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Assignment.TeamMethod>().Select(m => $"TeamMethod{m}"))
            .Concat(Enum.GetValues<Tideflow.Web.Features.Scoring.RescoreStatus>().Select(s => $"RescoreStatus{s}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Leads.CustomFieldType>().Select(t => $"FieldType{t}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Leads.CustomFieldTarget>().Select(t => $"FieldFor{t}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Pipeline.FollowUpChannel>().Select(c => $"FollowUpChannel{c}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Pipeline.StageCheck>().Select(c => $"StageCheck{c}"))
            .Concat(Tideflow.Domain.Attachments.AttachmentPurposes.All.Select(p => $"AttachmentPurpose_{p}"))
            .Concat(Constants(typeof(Tideflow.Web.Features.Notifications.NotificationKinds)).SelectMany(k => new[] { $"Notification_{k}", $"NotificationKind_{k}" }))
            .Concat(Enum.GetValues<Tideflow.Domain.Pipeline.StageOutcome>().Select(o => $"StageOutcome{o}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Pipeline.StageRole>().Select(r => $"StageRole{r}"))
            .Concat(Enum.GetValues<Tideflow.Domain.Pipeline.StageActionKind>().Select(k => $"StageAction{k}"))
            .Concat(Constants(typeof(Tideflow.Web.Features.Pipeline.TaskKinds)).Select(k => $"Task_{k}"))
            .Concat(Tideflow.Domain.Workbench.WorkbenchRules.Keys.Values.SelectMany(k => new[] { $"Workbench_{k}", $"WorkbenchHint_{k}", $"WorkbenchAt_{k}" }))
            .Concat(new[] { "ProblemHoneypot", "ProblemOverDailyCap", "Toucharrival", "Touchduplicate", "Touchmanual", "Touchmerge", "Touchregraded", "Touchimport" })
            .ToList();
        var missingInEnglish = keys.Where(k => !English.ContainsKey(k)).ToList();
        var missingInChinese = keys.Where(k => !Chinese.ContainsKey(k)).ToList();
        Assert.Empty(missingInEnglish);
        Assert.Empty(missingInChinese);
    }

    private static IEnumerable<string> Constants(Type type) =>
        type.GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!);

    [Fact]
    public void Format_placeholders_match_between_languages()
    {
        var mismatched = English.Keys
            .Where(Chinese.ContainsKey)
            .Where(k => !Placeholders(English[k]).SetEquals(Placeholders(Chinese[k])))
            .ToList();
        Assert.Empty(mismatched);
        Assert.Equal(new SortedSet<int> { 0, 1 }, Placeholders(English["Welcome"]));
    }

    [Fact]
    public void The_localizer_resolves_the_user_interface_culture()
    {
        var localizer = new ResourceManagerStringLocalizerFactory(
                Options.Create(new LocalizationOptions()), NullLoggerFactory.Instance)
            .Create(typeof(Strings));
        var original = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("zh-CN");
            var zh = localizer["Customers"];
            Assert.False(zh.ResourceNotFound);
            Assert.Equal("客户", zh.Value);

            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("en");
            var en = localizer["Customers"];
            Assert.False(en.ResourceNotFound);
            Assert.Equal("Customers", en.Value);
        }
        finally
        {
            CultureInfo.CurrentUICulture = original;
        }
    }

    private static SortedSet<int> Placeholders(string value) =>
        new(Placeholder().Matches(value).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)));

    private static Dictionary<string, string> Load(string fileName) =>
        XDocument.Load(Path.Combine(WebDir, "Shared", fileName))
            .Root!.Elements("data")
            .ToDictionary(d => (string)d.Attribute("name")!, d => (string?)d.Element("value") ?? "", StringComparer.Ordinal);

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Tideflow.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"No Tideflow.slnx above {AppContext.BaseDirectory}");
    }

    [GeneratedRegex("""\bL\["([^"]+)"\]""")]
    private static partial Regex LiteralKey();

    [GeneratedRegex("""(?<!\{)\{(\d+)(?:[,:][^}]*)?\}""")]
    private static partial Regex Placeholder();
}
