using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Tideflow.Domain.Access;
using Tideflow.Domain.Assignment;
using Tideflow.Domain.Leads;
using Tideflow.Domain.Pipeline;
using Tideflow.Domain.Scoring;
using Tideflow.Web.Features.Assignment;
using Tideflow.Web.Features.Pipeline;
using Tideflow.Web.Features.Access;
using Tideflow.Web.Features.Customers;
using Tideflow.Web.Features.Leads;

namespace Tideflow.Web.Data;

/// <summary>
/// First start on an empty database: a demo company to log into at once. Deterministic (fixed seed)
/// so screenshots and docs match what a new user sees.
/// </summary>
public static class DemoOrganisation
{
    public const string Name = "潮汐科技（演示）";
    public const string Password = "demo1234";

    public static readonly (string UserName, string DisplayName, Role Role, string Team)[] People =
    [
        ("admin", "管理员 Admin", Role.Admin, "销售部"),
        ("manager.east", "张伟 (华东经理)", Role.Manager, "华东销售组"),
        ("manager.south", "李娜 (华南经理)", Role.Manager, "华南销售组"),
        ("rep1", "王芳", Role.Rep, "华东销售组"),
        ("rep2", "刘洋", Role.Rep, "华东销售组"),
        ("rep3", "陈杰", Role.Rep, "华东销售组"),
        ("rep4", "赵敏", Role.Rep, "华南销售组"),
        ("rep5", "孙丽", Role.Rep, "华南销售组"),
        ("rep6", "周强", Role.Rep, "华南销售组"),
        ("finance", "钱慧 (财务)", Role.Finance, "销售部"),
    ];

    public static async Task SeedIfEmptyAsync(IServiceProvider services, ILogger logger, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var sp = scope.ServiceProvider;
        sp.GetRequiredService<CurrentUser>().Set(DataScope.System);
        var db = sp.GetRequiredService<TideflowDbContext>();
        if (await db.Organizations.AnyAsync(ct))
        {
            return;
        }
        await CreateAsync(db, sp.GetRequiredService<UserManager<AppUser>>(), sp.GetRequiredService<TimeProvider>(), 300, ct);
        logger.LogInformation("Created the demo organisation {Name}.", Name);
    }

    public static Task<bool> ExistsAsync(TideflowDbContext db) => db.Organizations.AnyAsync(o => o.Name == Name);

    public static async Task<Organization> CreateAsync(TideflowDbContext db, UserManager<AppUser> users, TimeProvider clock,
        int customerCount, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var org = new Organization { Id = Guid.CreateVersion7(), Name = Name, CreatedAt = now };
        db.Organizations.Add(org);
        var root = new Team { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "销售部" };
        var east = new Team { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "华东销售组", ParentTeamId = root.Id };
        var south = new Team { Id = Guid.CreateVersion7(), OrganizationId = org.Id, Name = "华南销售组", ParentTeamId = root.Id };
        db.Teams.AddRange(root, east, south);
        await db.SaveChangesAsync(ct);
        var teams = new[] { root, east, south }.ToDictionary(t => t.Name);

        var created = new Dictionary<string, AppUser>();
        foreach (var (userName, displayName, role, team) in People)
        {
            var user = new AppUser
            {
                Id = Guid.CreateVersion7(),
                OrganizationId = org.Id,
                UserName = userName,
                DisplayName = displayName,
                Email = $"{userName}@demo.tideflow.local",
                Role = role,
                TeamId = teams[team].Id,
                CreatedAt = now,
                LockoutEnabled = true,
            };
            var result = await users.CreateAsync(user, Password);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
            }
            created[userName] = user;
        }
        foreach (var user in created.Values)
        {
            user.ManagerId = user.UserName switch
            {
                "rep1" or "rep2" or "rep3" => created["manager.east"].Id,
                "rep4" or "rep5" or "rep6" => created["manager.south"].Id,
                "manager.east" or "manager.south" or "finance" => created["admin"].Id,
                _ => null,
            };
        }
        await db.SaveChangesAsync(ct);

        var owners = new[] { "rep1", "rep2", "rep3", "rep4", "rep5", "rep6", "manager.east", "manager.south" }
            .Select(n => created[n].Id).ToArray();
        var pool = await Features.Pool.Pools.DefaultAsync(db, org.Id, now, ct);
        string[] contacts = ["电话沟通需求，客户在比较方案", "微信发送产品资料", "上门拜访，见到采购负责人", "客户要求下周再联系"];
        var random = new Random(20261122);
        var usedMobiles = new HashSet<string>();
        for (var i = 0; i < customerCount; i++)
        {
            var person = Surnames[random.Next(Surnames.Length)] + GivenNames[random.Next(GivenNames.Length)];
            var (province, city) = Places[random.Next(Places.Length)];
            var industry = Industries[random.Next(Industries.Length)];
            var company = $"{city}{Brands[random.Next(Brands.Length)]}{industry.Suffix}";
            var created1 = now.AddDays(-random.Next(1, 400)).AddMinutes(-random.Next(0, 1440));
            var customerId = Guid.CreateVersion7();
            var mobile = $"+86{MobilePrefixes[random.Next(MobilePrefixes.Length)]}{random.Next(0, 100_000_000):D8}";
            if (!usedMobiles.Add(mobile))
            {
                continue;
            }
            var email = random.Next(3) == 0 ? $"contact{i}@example.cn" : null;
            db.ContactKeys.Add(new ContactKey { OrganizationId = org.Id, Key = "m:" + mobile, CustomerId = customerId });
            if (email is not null)
            {
                db.ContactKeys.Add(new ContactKey { OrganizationId = org.Id, Key = "e:" + email, CustomerId = customerId });
            }
            db.Customers.Add(new Customer
            {
                Id = customerId,
                OrganizationId = org.Id,
                Name = person,
                Company = company,
                Mobile = mobile,
                Email = email,
                Region = $"{province} {city}",
                Industry = industry.Name,
                CompanyKey = ContactRules.CompanyKey(company),
                Grade = Grades[random.Next(Grades.Length)],
                OwnerId = owners[i % owners.Length],
                // From the index, not the random source, so the rest of the demo stays as it was.
                Fields = Features.Scoring.LeadScoring.ToJson(new Dictionary<string, string>
                {
                    ["employees"] = (((i * 2654435761L >> 12) % 40 + 1) * 25).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["current_system"] = DemoFields[1].Options[(int)((i * 2654435761L >> 16) % DemoFields[1].Options.Count)],
                }),
                AssignedAt = created1,
                CreatedAt = created1,
                UpdatedAt = created1,
            });
            var owner = owners[i % owners.Length];
            var customer = db.Customers.Local.Single(c => c.Id == customerId);
            if (i % 12 == 5)
            {
                // Some customers are already in the public pool, released by their last owner.
                (customer.OwnerId, customer.PreviousOwnerId, customer.PoolId) = (null, owner, pool.Id);
                (customer.PooledAt, customer.PoolReason) = (now.AddHours(-random.Next(2, 240)), "多次联系不上");
                // Their history says so, so the pool-flow figures have something to count (from the index, not the
                // random source): every other one had been claimed from the pool three days before, every fourth was
                // taken back by the sweep instead.
                if (i % 24 == 5)
                {
                    AddPoolEvent(db, org.Id, pool.Id, customerId, OwnershipEvent.Claimed, null, owner, customer.PooledAt.Value.AddDays(-3));
                }
                if (i % 48 == 17)
                {
                    customer.PoolReason = "no follow-up for 7 days";
                    AddPoolEvent(db, org.Id, pool.Id, customerId, OwnershipEvent.Reclaimed, owner, null, customer.PooledAt.Value);
                }
                else
                {
                    AddPoolEvent(db, org.Id, pool.Id, customerId, OwnershipEvent.Released, owner, null, customer.PooledAt.Value);
                }
                continue;
            }
            // Everyone else was followed up in the last few days, so the reclaim sweep has nothing to take at once;
            // every tenth customer is near the seven-day limit, so lists show a countdown.
            var contacted = i % 10 == 1 ? now.AddHours(-random.Next(100, 120)) : now.AddHours(-random.Next(1, 72));
            db.FollowUpRecords.Add(new Features.Pipeline.FollowUpRecord
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, CustomerId = customerId, AuthorId = owner,
                Channel = (Domain.Pipeline.FollowUpChannel)(i % 4), Content = contacts[i % contacts.Length], At = contacted,
            });
            customer.LastFollowUpAt = contacted;
            // Every seventh one its owner claimed from the pool and first called within a day or two.
            if (i % 7 == 3 && contacted.AddHours(-(1 + i % 40)) is var claimed && claimed > created1)
            {
                (customer.ClaimedAt, customer.AssignedAt) = (claimed, claimed);
                AddPoolEvent(db, org.Id, pool.Id, customerId, OwnershipEvent.Claimed, null, owner, claimed);
            }
        }
        await db.SaveChangesAsync(ct);
        var rules = DemoRoutingRules(east.Id, south.Id);
        AddDemoLeads(db, org.Id, pool.Id, random, now, rules, teamReps: new Dictionary<Guid, Guid[]>
        {
            [east.Id] = [created["rep1"].Id, created["rep2"].Id, created["rep3"].Id],
            [south.Id] = [created["rep4"].Id, created["rep5"].Id, created["rep6"].Id],
        });
        for (var i = 0; i < rules.Count; i++)
        {
            var r = rules[i];
            db.AssignmentRules.Add(new StoredAssignmentRule
            {
                Id = Guid.CreateVersion7(), OrganizationId = org.Id, Position = i, Name = r.Name,
                Conditions = System.Text.Json.JsonSerializer.Serialize(r.Conditions, LeadRouter.Json), Target = r.Target, TeamId = r.TeamId,
                Method = r.Method,
            });
        }
        await db.SaveChangesAsync(ct);
        return org;
    }

    private static void AddPoolEvent(TideflowDbContext db, Guid orgId, Guid poolId, Guid customerId, OwnershipEvent kind, Guid? from, Guid? to, DateTimeOffset at) =>
        db.OwnershipChanges.Add(new OwnershipChange
        {
            OrganizationId = orgId, CustomerId = customerId, FromId = from, ToId = to, At = at, Event = kind, PoolId = poolId,
            ById = kind == OwnershipEvent.Reclaimed ? null : from ?? to,
            Rule = kind == OwnershipEvent.Reclaimed ? nameof(Domain.Pool.ReclaimWhen.NoFollowUp) : null,
            Reason = kind switch
            {
                OwnershipEvent.Released => "多次联系不上",
                OwnershipEvent.Reclaimed => "no follow-up for 7 days",
                _ => "claimed from the pool",
            },
        });

    private static readonly string[] Grades = ["A", "B", "B", "C", "C", "C"];

    /// <summary>East China leads to the east team, South China to the south team, in turn; the rest wait in the lead pool.</summary>
    private static List<AssignmentRule> DemoRoutingRules(Guid east, Guid south) =>
    [
        new("华东区域", [new FieldCondition(LeadFields.Region, FieldOperator.ContainsAny, "上海, 江苏, 浙江, 安徽")], AssignTo.Team, TeamId: east),
        new("华南区域", [new FieldCondition(LeadFields.Region, FieldOperator.ContainsAny, "广东, 福建, 广西, 海南")], AssignTo.Team, TeamId: south),
    ];

    /// <summary>Two channels and a month of leads, a few of them invalid, so the lead pages are not empty.</summary>
    private static void AddDemoLeads(TideflowDbContext db, Guid orgId, Guid poolId, Random random, DateTimeOffset now,
        List<AssignmentRule> rules, Dictionary<Guid, Guid[]> teamReps)
    {
        var turns = teamReps.Keys.ToDictionary(t => t, _ => 0);
        var web = new Channel
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = "官网咨询表单", Kind = ChannelKind.WebForm, SourceTag = "官网",
            Key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)), CreatedAt = now.AddDays(-40),
        };
        var fair = new Channel
        {
            Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = "2026 上海工业博览会", Kind = ChannelKind.TradeShow, SourceTag = "展会",
            Key = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)), CreatedAt = now.AddDays(-40),
        };
        db.Channels.AddRange(web, fair);
        foreach (var (field, position) in DemoFields.Select((f, i) => (f, i)))
        {
            db.CustomFields.Add(new StoredCustomField
            {
                Id = Guid.CreateVersion7(), OrganizationId = orgId, Key = field.Key, Label = field.Label, Type = field.Type,
                Options = System.Text.Json.JsonSerializer.Serialize(field.Options), Required = field.Required, AppliesTo = field.AppliesTo,
                Position = position, CreatedAt = now.AddDays(-40),
            });
        }
        for (var i = 0; i < 40; i++)
        {
            var channel = i % 3 == 0 ? fair : web;
            var person = Surnames[random.Next(Surnames.Length)] + GivenNames[random.Next(GivenNames.Length)];
            var (province, city) = Places[random.Next(Places.Length)];
            var industry = Industries[random.Next(Industries.Length)];
            var invalid = i % 13 == 5;
            var mobile = invalid ? "1380013" : $"+86{MobilePrefixes[random.Next(MobilePrefixes.Length)]}{random.Next(0, 100_000_000):D8}";
            var arrived = now.AddHours(-random.Next(1, 30 * 24));
            var lead = new Lead
            {
                Id = Guid.CreateVersion7(), OrganizationId = orgId, Name = person,
                Company = $"{city}{Brands[random.Next(Brands.Length)]}{industry.Suffix}", Mobile = mobile,
                ChannelId = channel.Id, SourceTag = channel.SourceTag, Campaign = channel == web ? "秋季推广" : null,
                Status = invalid ? LeadStatus.Invalid : LeadStatus.New, Problems = invalid ? "NoContact,InvalidMobile" : null,
                PageUrl = channel == web ? "https://www.example.cn/contact" : null, ArrivedAt = arrived, UpdatedAt = arrived,
                // Every fifth lead comes from a province no rule covers, so the lead pool is not empty.
                Fields = Features.Scoring.LeadScoring.FieldsJson(new Dictionary<string, string>
                {
                    [LeadFields.Budget] = Budgets[random.Next(Budgets.Length)],
                    [LeadFields.Urgency] = Urgencies[random.Next(Urgencies.Length)],
                    [LeadFields.Authority] = Authorities[random.Next(Authorities.Length)],
                    [LeadFields.Industry] = industry.Name,
                    [LeadFields.Region] = i % 5 == 4 ? "四川 成都" : $"{province} {city}",
                    // From the index, not the random source, so the rest of the demo stays as it was.
                    ["员工人数"] = ((i * 37 % 20 + 1) * 50).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    ["现用系统"] = DemoFields[1].Options[i % DemoFields[1].Options.Count],
                }, DemoFields),
            };
            db.Leads.Add(lead);
            if (!invalid)
            {
                Features.Scoring.LeadScoring.Apply(lead, channel, ScoreCard.Default, Features.Scoring.ScoreCards.DefaultVersion, arrived);
                var lookup = FieldConditions.Lookup(Features.Scoring.LeadScoring.Facts(lead, channel));
                if (rules.FirstOrDefault(r => r.Conditions.All(c => FieldConditions.Holds(c, lookup))) is { TeamId: { } team } rule)
                {
                    var rep = teamReps[team][turns[team]++ % teamReps[team].Length];
                    lead.OwnerId = rep;
                    lead.AssignedAt = arrived;
                    db.OwnershipChanges.Add(new OwnershipChange
                    {
                        OrganizationId = orgId, LeadId = lead.Id, ToId = rep, Reason = $"rule '{rule.Name}' (round-robin)", Rule = rule.Name, At = arrived,
                    });
                    db.FollowUpTasks.Add(new FollowUpTask
                    {
                        Id = Guid.CreateVersion7(), OrganizationId = orgId, OwnerId = rep, LeadId = lead.Id, Kind = TaskKinds.FirstContact,
                        DueAt = arrived + FirstContact.DueAfter(ScoreCard.Default, lead.Grade), CreatedAt = arrived,
                    });
                }
                else
                {
                    // Nobody's region: it waits in the lead pool (线索池), where reps claim it.
                    (lead.PoolId, lead.PooledAt, lead.PoolReason) = (poolId, arrived, "no rule matched → lead pool");
                }
            }
            db.LeadTouches.Add(new LeadTouch { Id = Guid.CreateVersion7(), OrganizationId = orgId, LeadId = lead.Id, ChannelId = channel.Id, Kind = "arrival", At = arrived, PageUrl = lead.PageUrl });
            if (!invalid)
            {
                db.ContactKeys.Add(new ContactKey { OrganizationId = orgId, Key = "m:" + mobile, LeadId = lead.Id });
            }
        }
    }

    private static readonly CustomField[] DemoFields =
    [
        new("employees", "员工人数", CustomFieldType.Number, [], Required: false, CustomFieldTarget.Both),
        new("current_system", "现用系统", CustomFieldType.SingleSelect, ["用友", "金蝶", "SAP", "无"], Required: false, CustomFieldTarget.Both),
    ];

    private static readonly string[] Budgets = ["80万", "50万", "30万", "12万", "5万", "200000", "1,000,000", ""];
    private static readonly string[] Urgencies = ["立即采购", "本月内", "本季度", "半年内", "不确定"];
    private static readonly string[] Authorities = ["决策人", "影响者", "使用者", ""];

    private static readonly string[] Surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "韩", "冯", "邓", "曹", "彭"];
    private static readonly string[] GivenNames = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "海燕", "志强", "丹", "鹏", "婷", "欣怡"];
    private static readonly string[] Brands = ["华创", "金源", "恒信", "东方", "瑞丰", "博远", "佳禾", "中科", "云帆", "汇通", "鼎盛", "天成", "新锐", "宏达", "嘉业"];
    private static readonly (string Name, string Suffix)[] Industries =
    [
        ("制造业", "机械制造有限公司"), ("零售", "商贸有限公司"), ("软件", "信息技术有限公司"), ("教育", "教育科技有限公司"),
        ("医疗", "医疗器械有限公司"), ("物流", "供应链管理有限公司"), ("餐饮", "餐饮管理有限公司"), ("建筑", "建设工程有限公司"),
    ];
    private static readonly (string Province, string City)[] Places =
    [
        ("上海", "上海"), ("江苏", "南京"), ("江苏", "苏州"), ("浙江", "杭州"), ("浙江", "宁波"), ("安徽", "合肥"),
        ("广东", "广州"), ("广东", "深圳"), ("广东", "东莞"), ("福建", "厦门"), ("广西", "南宁"), ("海南", "海口"),
    ];
    private static readonly string[] MobilePrefixes = ["138", "139", "135", "136", "137", "150", "151", "158", "186", "187", "188", "199", "177", "166"];
}
