using Tideflow.Bench.Generation;
using Tideflow.Domain.Leads;

namespace Tideflow.Bench.Tests.Generation;

/// <summary>Leads, capture submissions and the import file: pure generation, checked against the app's own contact rules.</summary>
public sealed class LeadGeneratorTests
{
    private static readonly Scale Tiny = new("tiny", 5_003, 20, 200, BenchRepCustomers: 700);
    private static readonly HashSet<string> NoBlocklist = [];

    private static IReadOnlyList<string> AppKeys(string? name, string? company, string? mobile, string? email) =>
        DuplicateRules.Keys(ContactRules.Normalize(new ContactInput(name, company, mobile, email), NoBlocklist));

    [Fact]
    public void Scales_promise_as_many_leads_as_customers_and_bounded_capture_runs()
    {
        Assert.Equal(10_000, Scale.Small.Leads);
        Assert.Equal(1_000_000, Scale.Large.Leads);
        Assert.Equal(5_000, Scale.Small.CaptureRequests);
        Assert.Equal(20_000, Scale.Large.CaptureRequests);
    }

    [Fact]
    public void Leads_have_unique_keys_that_are_exactly_what_the_app_would_store()
    {
        var g = new Generator(Tiny, 42);
        var org = g.Organisation();
        var channel = g.Channel(org);
        var leads = g.Leads(org, channel).ToList();
        Assert.Equal(Tiny.Leads, leads.Count);
        Assert.All(leads, l =>
        {
            Assert.Equal(org.Organization.Id, l.OrganizationId);
            Assert.Equal(channel.Id, l.ChannelId);
            Assert.Equal(AppKeys(l.Name, l.Company, l.Mobile, l.Email), l.Keys);
            Assert.True(l.ArrivedAt <= Generator.Epoch);
        });
        var keys = leads.SelectMany(l => l.Keys).ToList();
        Assert.Equal(keys.Count, keys.Distinct(StringComparer.Ordinal).Count());
        Assert.InRange(leads.Count(l => l.Email is not null) / (double)leads.Count, 0.2, 0.4);
        Assert.Equal(Generator.ChannelKey, channel.Key);
        Assert.Equal("WebForm", channel.Kind);
    }

    [Fact]
    public void Submissions_are_new_contacts_except_about_a_tenth_that_repeat_an_existing_lead()
    {
        var g = new Generator(Tiny, 42);
        var org = g.Organisation();
        var leadKeys = g.Leads(org, g.Channel(org)).SelectMany(l => l.Keys).ToHashSet(StringComparer.Ordinal);
        var submissions = g.Submissions(0, 4_000).ToList();
        Assert.Equal(4_000, submissions.Count);
        Assert.InRange(submissions.Count(s => s.IsRepeat) / 4_000.0, 0.08, 0.12);
        Assert.All(submissions, s =>
        {
            Assert.Equal(AppKeys(s.Name, null, s.Mobile, s.Email), s.Keys);
            Assert.Equal(s.IsRepeat, leadKeys.Contains(s.Keys[0]));
        });
        var fresh = submissions.Where(s => !s.IsRepeat).SelectMany(s => s.Keys).ToList();
        Assert.Equal(fresh.Count, fresh.Distinct(StringComparer.Ordinal).Count());
        // Unique payloads, so the app never answers one as a repeat of another.
        Assert.Equal(submissions.Count, submissions.Select(s => s.Campaign).Distinct().Count());
    }

    [Fact]
    public void A_range_of_submissions_is_the_same_rows_as_that_slice_of_the_whole_sequence()
    {
        var g = new Generator(Tiny, 3);
        var whole = g.Submissions(0, 300).ToList();
        Assert.Equal(whole.Skip(120).Take(50), g.Submissions(120, 50));
    }

    [Fact]
    public void Contact_mobiles_are_distinct_valid_mainland_numbers()
    {
        var mobiles = Enumerable.Range(0, 20_000).Select(Generator.ContactMobile)
            .Concat(Enumerable.Range(Generator.ImportIndexBase, 2_000).Select(Generator.ContactMobile)).ToList();
        Assert.Equal(mobiles.Count, mobiles.Distinct().Count());
        Assert.All(mobiles.Take(500), m => Assert.Equal(m, ContactRules.NormalizePhone(m, "CN", out var invalid)));
    }

    [Fact]
    public void The_import_file_has_about_five_percent_repeats_one_percent_invalid_and_otherwise_new_contacts()
    {
        var g = new Generator(Tiny, 42);
        var org = g.Organisation();
        var leadKeys = g.Leads(org, g.Channel(org)).SelectMany(l => l.Keys).ToHashSet(StringComparer.Ordinal);
        var rows = g.ImportRows(0, 10_000).ToList();
        Assert.InRange(rows.Count(r => r.Kind == ImportRowKind.Repeat) / 10_000.0, 0.04, 0.06);
        Assert.InRange(rows.Count(r => r.Kind == ImportRowKind.Invalid) / 10_000.0, 0.006, 0.014);
        Assert.All(rows, r =>
        {
            var contact = ContactRules.Normalize(new ContactInput(r.Name, r.Company, r.Mobile, r.Email), NoBlocklist);
            Assert.Equal(r.Kind != ImportRowKind.Invalid, contact.IsValid);
            if (r.Kind != ImportRowKind.Invalid)
            {
                Assert.Equal(r.NormalizedMobile, contact.Mobile);
                Assert.Equal(r.Kind == ImportRowKind.Repeat, leadKeys.Contains("m:" + contact.Mobile));
            }
            Assert.DoesNotContain(',', r.Name + r.Company + r.Mobile + r.Email);
        });
        var fresh = rows.Where(r => r.Kind == ImportRowKind.New).Select(r => r.NormalizedMobile).ToList();
        Assert.Equal(fresh.Count, fresh.Distinct().Count());
        // The app's column guesses know every header.
        Assert.Equal("姓名,公司名称,手机号码,邮箱", Generator.ImportHeader);
        var csv = Generator.ImportCsv(rows.Take(3));
        Assert.Equal(4, csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public void Import_files_do_not_share_new_contacts_and_the_same_seed_gives_the_same_file()
    {
        var g = new Generator(Tiny, 42);
        var first = g.ImportRows(0, 5_000).Where(r => r.Kind == ImportRowKind.New).Select(r => r.NormalizedMobile).ToHashSet();
        Assert.DoesNotContain(g.ImportRows(1, 5_000), r => r.Kind == ImportRowKind.New && first.Contains(r.NormalizedMobile));
        Assert.Equal(Generator.ImportCsv(g.ImportRows(0, 1_000)), Generator.ImportCsv(new Generator(Tiny, 42).ImportRows(0, 1_000)));
        Assert.NotEqual(Generator.ImportCsv(g.ImportRows(0, 1_000)), Generator.ImportCsv(new Generator(Tiny, 43).ImportRows(0, 1_000)));
    }

    [Fact]
    public void The_same_seed_gives_the_same_leads_and_submissions()
    {
        var a = new Generator(Tiny, 42);
        var b = new Generator(Tiny, 42);
        var orgA = a.Organisation();
        var orgB = b.Organisation();
        Assert.Equal(a.Channel(orgA), b.Channel(orgB));
        static string Flat(LeadRow l) => $"{l.Id}|{l.Name}|{l.Company}|{l.Mobile}|{l.Email}|{l.ArrivedAt:O}|{string.Join(";", l.Keys)}";
        Assert.Equal(a.Leads(orgA, a.Channel(orgA)).Select(Flat), b.Leads(orgB, b.Channel(orgB)).Select(Flat));
        Assert.Equal(a.Submissions(0, 500), b.Submissions(0, 500));
    }
}
