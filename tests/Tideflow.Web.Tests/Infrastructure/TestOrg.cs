using System.Security.Cryptography;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OtpNet;
using Tideflow.Domain.Access;
using Tideflow.Web.Data;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;

namespace Tideflow.Web.Tests.Infrastructure;

public sealed record Persona(string Name, Guid Id, string UserName, string? Token, Role Role);

/// <summary>
/// A fresh organisation per test:
/// Root (admin, finance) → Team A (manager A) → Team A1 (rep A, a deactivated rep); Root → Team B (manager B, rep B).
/// Every persona has an API token; the admin has TOTP enabled with a known key.
/// </summary>
public sealed class TestOrg
{
    public const string Password = "Passw0rd-test";
    private static readonly Lazy<string> PasswordHash = new(() => new PasswordHasher<AppUser>().HashPassword(null!, Password));

    public Guid Id { get; private init; }
    public Guid RootTeam { get; private init; }
    public Guid TeamA { get; private init; }
    public Guid TeamA1 { get; private init; }
    public Guid TeamB { get; private init; }
    public required Persona Admin { get; init; }
    public required Persona ManagerA { get; init; }
    public required Persona ManagerB { get; init; }
    public required Persona RepA { get; init; }
    public required Persona RepB { get; init; }
    public required Persona Finance { get; init; }
    public required Persona DeactivatedRep { get; init; }
    public required string AdminTotpKey { get; init; }
    public required Guid RepATokenId { get; init; }
    public required IReadOnlyDictionary<Guid, Guid[]> CustomersOf { get; init; }
    public required IReadOnlyDictionary<Guid, string> CustomerNames { get; init; }
    public required Channel Channel { get; init; }
    public required Guid UnassignedLead { get; init; }
    public required Guid RepALead { get; init; }
    public required Guid RepBLead { get; init; }
    public required Guid ImportJob { get; init; }
    public required Guid TagRule { get; init; }
    /// <summary>An optional text field on leads and customers, key "segment".</summary>
    public required Guid CustomField { get; init; }
    public required Guid RepANotification { get; init; }
    /// <summary>An open first-contact task of repA's lead, due in 30 days.</summary>
    public required Guid RepATask { get; init; }
    /// <summary>The organisation's default pool (公海); every team is in it.</summary>
    public required Guid DefaultPool { get; init; }
    /// <summary>A text file on repA's second customer, not linked to any follow-up; its content happens to be JSON.</summary>
    public required Guid RepAAttachment { get; init; }

    /// <summary>More reps in a team, each with an API token: for races between many reps.</summary>
    public static async Task<List<Persona>> AddRepsAsync(IServiceProvider services, Guid organizationId, Guid teamId, int count)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var now = scope.ServiceProvider.GetRequiredService<TimeProvider>().GetUtcNow();
        var reps = new List<Persona>();
        for (var i = 0; i < count; i++)
        {
            var name = $"rep{i}.{Guid.NewGuid():N}"[..20];
            var user = new AppUser
            {
                Id = Guid.CreateVersion7(), OrganizationId = organizationId, UserName = name, NormalizedUserName = name.ToUpperInvariant(),
                DisplayName = name, Role = Role.Rep, TeamId = teamId, IsActive = true, PasswordHash = PasswordHash.Value,
                SecurityStamp = Guid.NewGuid().ToString("N"), ConcurrencyStamp = Guid.NewGuid().ToString(), CreatedAt = now,
            };
            db.Users.Add(user);
            var secret = ApiTokens.SecretPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            db.ApiTokens.Add(new ApiToken
            {
                Id = Guid.CreateVersion7(), OrganizationId = organizationId, UserId = user.Id, Name = "test",
                Prefix = secret[..10], Hash = ApiTokens.HashOf(secret), CreatedAt = now,
            });
            reps.Add(new Persona(name, user.Id, name, secret, Role.Rep));
        }
        await db.SaveChangesAsync();
        return reps;
    }

    /// <summary>Leads a persona may see: own ones, the team's, and for managers and above the unassigned ones.</summary>
    public IReadOnlySet<Guid> VisibleLeads(Persona p) => p.Name switch
    {
        "repA" => new HashSet<Guid> { RepALead },
        "repB" => new HashSet<Guid> { RepBLead },
        "managerA" => new HashSet<Guid> { RepALead, UnassignedLead },
        "managerB" => new HashSet<Guid> { RepBLead, UnassignedLead },
        "admin" or "finance" => new HashSet<Guid> { RepALead, RepBLead, UnassignedLead },
        _ => new HashSet<Guid>(),
    };

    public static Persona Anonymous { get; } = new("anonymous", Guid.Empty, "", null, Role.Rep);

    public IEnumerable<Persona> Personas => [Anonymous, RepA, RepB, ManagerA, ManagerB, Finance, Admin, DeactivatedRep];

    /// <summary>The current code of the admin's and the managers' authenticator.</summary>
    public string AdminTotpCode() => new Totp(Base32Encoding.ToBytes(AdminTotpKey)).ComputeTotp();

    /// <summary>Whose customers a persona may see, by the rules of R9.1.</summary>
    public IReadOnlySet<Guid> VisibleOwners(Persona p) => p.Name switch
    {
        "repA" => new HashSet<Guid> { RepA.Id },
        "repB" => new HashSet<Guid> { RepB.Id },
        "managerA" => new HashSet<Guid> { ManagerA.Id, RepA.Id, DeactivatedRep.Id },
        "managerB" => new HashSet<Guid> { ManagerB.Id, RepB.Id },
        "admin" or "finance" => CustomersOf.Keys.ToHashSet(),
        _ => new HashSet<Guid>(),
    };

    public static async Task<TestOrg> CreateAsync(IServiceProvider services)
    {
        await using var scope = services.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = scope.ServiceProvider.GetRequiredService<TideflowDbContext>();
        var clock = scope.ServiceProvider.GetRequiredService<TimeProvider>();
        var now = clock.GetUtcNow();
        var tag = Guid.NewGuid().ToString("N")[..8];

        var org = new Organization { Id = Guid.CreateVersion7(), Name = $"Org {tag}", CreatedAt = now };
        db.Organizations.Add(org);
        Team NewTeam(string name, Guid? parent) => new() { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = name, ParentTeamId = parent };
        var root = NewTeam("Root", null);
        var a = NewTeam("Team A", root.Id);
        var a1 = NewTeam("Team A1", a.Id);
        var b = NewTeam("Team B", root.Id);
        db.Teams.AddRange(root, a, a1, b);

        var tokens = new List<ApiToken>();
        Persona Add(string name, Role role, Guid team, bool active = true)
        {
            var user = new AppUser
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = org.Id,
                UserName = $"{tag}.{name}",
                NormalizedUserName = $"{tag}.{name}".ToUpperInvariant(),
                DisplayName = $"{name} {tag}",
                Role = role,
                TeamId = team,
                IsActive = active,
                PasswordHash = PasswordHash.Value,
                SecurityStamp = Guid.NewGuid().ToString("N"),
                ConcurrencyStamp = Guid.NewGuid().ToString(),
                LockoutEnabled = true,
                CreatedAt = now,
            };
            db.Users.Add(user);
            var secret = ApiTokens.SecretPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
            tokens.Add(new ApiToken
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, UserId = user.Id, Name = "test",
                Prefix = secret[..10], Hash = ApiTokens.HashOf(secret), CreatedAt = now,
            });
            return new Persona(name, user.Id, user.UserName, secret, role);
        }

        var admin = Add("admin", Role.Admin, root.Id);
        var finance = Add("finance", Role.Finance, root.Id);
        var managerA = Add("managerA", Role.Manager, a.Id);
        var managerB = Add("managerB", Role.Manager, b.Id);
        var repA = Add("repA", Role.Rep, a1.Id);
        var repB = Add("repB", Role.Rep, b.Id);
        var gone = Add("deactivated", Role.Rep, a1.Id, active: false);
        db.ApiTokens.AddRange(tokens);

        // The admin and both managers have an authenticator (one key, so one code serves whichever of them calls):
        // role changes and merges need a fresh code.
        var totpKey = Base32Encoding.ToString(RandomNumberGenerator.GetBytes(20));
        foreach (var holder in new[] { admin, managerA, managerB })
        {
            db.Set<IdentityUserToken<Guid>>().Add(new IdentityUserToken<Guid>
            {
                UserId = holder.Id, LoginProvider = "[AspNetUserStore]", Name = "AuthenticatorKey", Value = totpKey,
            });
        }

        var customers = new Dictionary<Guid, Guid[]>();
        var names = new Dictionary<Guid, string>();
        foreach (var (owner, count) in new[] { (repA, 2), (repB, 2), (managerA, 1), (managerB, 1), (gone, 1) })
        {
            customers[owner.Id] = Enumerable.Range(0, count).Select(i =>
            {
                var c = new Customer
                {
                    Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"Customer {owner.Name} {i} {tag}",
                    OwnerId = owner.Id, CreatedAt = now, UpdatedAt = now,
                };
                db.Customers.Add(c);
                names[c.Id] = c.Name;
                return c.Id;
            }).ToArray();
        }
        var channel = new Channel
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "官网表单", Kind = ChannelKind.WebForm, SourceTag = "官网",
            Key = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), AllowedDomains = "example.cn", CreatedAt = now,
        };
        db.Channels.Add(channel);
        Lead NewLead(string name, Guid? owner) => new()
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = $"{name} {tag}", ChannelId = channel.Id, SourceTag = "官网",
            Status = LeadStatus.New, OwnerId = owner, ArrivedAt = now, UpdatedAt = now,
        };
        var unassigned = NewLead("unassigned lead", null);
        var repALead = NewLead("repA lead", repA.Id);
        var repBLead = NewLead("repB lead", repB.Id);
        db.Leads.AddRange(unassigned, repALead, repBLead);
        var content = System.Text.Encoding.UTF8.GetBytes("name,mobile\n导入测试,13800000000\n");
        var importJob = new ImportJob
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, CreatedById = managerA.Id, FileName = "seed.csv",
            FileHash = ApiTokens.HashOf(tag), Content = content, Encoding = "utf-8", Status = ImportStatus.Uploaded, CreatedAt = now,
        };
        db.ImportJobs.Add(importJob);
        var tagRule = new StoredTagRule
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "高潜力", Tag = "高潜力",
            Conditions = """[{"field":"industry","operator":"Equals","value":"制造业"},{"field":"budget","operator":"GreaterOrEqual","value":"500000"}]""",
        };
        db.Add(tagRule);
        var customField = new StoredCustomField
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, Key = "segment", Label = "客户分层", Type = Tideflow.Domain.Leads.CustomFieldType.Text,
            Options = "[]", AppliesTo = Tideflow.Domain.Leads.CustomFieldTarget.Both, CreatedAt = now,
        };
        db.Add(customField);
        var note = new Tideflow.Web.Features.Notifications.Notification
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, RecipientId = repA.Id, Kind = "contact-returned",
            Parameters = """{"name":"x","channel":"y"}""", CreatedAt = now,
        };
        db.Add(note);
        // Far off, so it is in nobody's due or overdue lists.
        var task = new Tideflow.Web.Features.Pipeline.FollowUpTask
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, OwnerId = repA.Id, LeadId = repALead.Id, Kind = "first-contact",
            DueAt = now.AddDays(30), CreatedAt = now,
        };
        db.Add(task);
        db.BlockedValues.Add(new BlockedValue { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Value = "mailinator.com" });
        var minutes = System.Text.Encoding.UTF8.GetBytes("""{"minutes":"客户确认 50 套"}""");
        var attachment = new Tideflow.Web.Features.Attachments.Attachment
        {
            Id = Guid.CreateVersion7(), OrganizationId = org.Id, CustomerId = customers[repA.Id][1], Purpose = "follow-up", FileName = "会议纪要.txt",
            ContentType = "text/plain; charset=utf-8", Size = minutes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(minutes)),
            UploadedById = repA.Id, UploadedAt = now,
        };
        db.Add(attachment);
        db.Add(new Tideflow.Web.Features.Attachments.AttachmentContent { AttachmentId = attachment.Id, OrganizationId = org.Id, Content = minutes });
        await db.SaveChangesAsync();
        foreach (var holder in new[] { admin, managerA, managerB })
        {
            (await db.Users.FindAsync(holder.Id))!.TwoFactorEnabled = true;
        }
        await db.SaveChangesAsync();
        var pool = await Tideflow.Web.Features.Pool.Pools.DefaultAsync(db, org.Id, now, default);

        return new TestOrg
        {
            Id = org.Id, RootTeam = root.Id, TeamA = a.Id, TeamA1 = a1.Id, TeamB = b.Id,
            Admin = admin, Finance = finance, ManagerA = managerA, ManagerB = managerB, RepA = repA, RepB = repB,
            DeactivatedRep = gone, AdminTotpKey = totpKey, DefaultPool = pool.Id, RepAAttachment = attachment.Id,
            RepATokenId = tokens[4].Id,
            CustomersOf = customers, CustomerNames = names,
            ImportJob = importJob.Id, TagRule = tagRule.Id, CustomField = customField.Id, RepANotification = note.Id, RepATask = task.Id,
            Channel = channel, UnassignedLead = unassigned.Id, RepALead = repALead.Id, RepBLead = repBLead.Id,
        };
    }
}
