using System.Security.Cryptography;
using System.Text;

namespace Tideflow.Bench.Generation;

/// <summary>
/// A zh-CN sales organisation, deterministic from the seed and <paramref name="now"/>: no clock, no I/O, no database.
/// Loaders turn the rows into inserts. <c>new Random(seed)</c> uses the legacy seeded algorithm, which .NET keeps stable
/// across versions.
/// </summary>
/// <param name="now">
/// The data set's "now": every instant is generated back from it (default <see cref="Epoch"/>). The runner passes the
/// wall clock, because the app under test runs on the wall clock and its workbench asks what is due today.
/// </param>
public sealed partial class Generator(Scale scale, int seed, DateTimeOffset? now = null)
{
    /// <summary>Default "now" of the data set, so the same seed gives the same rows on any day.</summary>
    public static readonly DateTimeOffset Epoch = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The data set's "now"; the organisation was founded three years before it.</summary>
    public DateTimeOffset Now { get; } = now ?? Epoch;

    /// <summary>The "now" a data set was generated at, from its organisation's founding (what <see cref="Organisation"/> writes).</summary>
    public static DateTimeOffset NowOf(DateTimeOffset organizationCreatedAt) => organizationCreatedAt.AddYears(3);

    public const string OrganizationName = "潮汐基准销售公司";
    public const string BenchRepUserName = "bench.rep";
    public const string BenchManagerUserName = "bench.manager";
    public const string AdminUserName = "bench.admin";
    public const string TokenPrefix = "tf_";

    public Scale Scale => scale;
    public int Seed => seed;

    public Organisation Organisation()
    {
        var random = new Random(seed);
        var org = new OrganizationRow(NewGuid(random), OrganizationName, Now.AddYears(-3));

        // Tree: 销售总部 → regions (大区) → groups (组). Teams beyond the root are split between regions and groups.
        var teams = new List<TeamRow>();
        var root = new TeamRow(NewGuid(random), org.Id, "销售总部", null);
        teams.Add(root);
        var regionCount = Math.Clamp((scale.Teams - 1) / 4, 1, Regions.Length);
        var regions = new List<TeamRow>();
        for (var i = 0; i < regionCount; i++)
        {
            var region = new TeamRow(NewGuid(random), org.Id, $"{Regions[i]}大区", root.Id);
            regions.Add(region);
            teams.Add(region);
        }
        var groups = new List<TeamRow>();
        for (var i = 0; teams.Count < scale.Teams; i++)
        {
            var parent = regions[i % regions.Count];
            var group = new TeamRow(NewGuid(random), org.Id, $"{Regions[i % regions.Count]}销售{Number(i / regions.Count + 1)}组", parent.Id);
            groups.Add(group);
            teams.Add(group);
        }
        if (groups.Count == 0)
        {
            groups.AddRange(regions);
        }

        var users = new List<UserRow>();
        var admin = NewUser(random, org, AdminUserName, "系统管理员", "Admin", root.Id, null);
        users.Add(admin);
        users.Add(NewUser(random, org, "bench.finance", "财务 " + PersonName(random), "Finance", root.Id, admin.Id));
        var managerOf = new Dictionary<Guid, UserRow>();
        foreach (var team in regions.Concat(groups).Distinct())
        {
            var userName = team == groups[0] ? BenchManagerUserName : $"manager{managerOf.Count + 1:D3}";
            var parentManager = team.ParentTeamId is { } p && managerOf.TryGetValue(p, out var pm) ? pm.Id : admin.Id;
            var manager = NewUser(random, org, userName, PersonName(random) + "（经理）", "Manager", team.Id, parentManager);
            managerOf[team.Id] = manager;
            users.Add(manager);
        }
        var reps = new List<UserRow>();
        for (var i = 0; i < scale.Reps; i++)
        {
            var team = groups[i % groups.Count];
            var rep = NewUser(random, org, i == 0 ? BenchRepUserName : $"rep{i:D4}", PersonName(random), "Rep", team.Id, managerOf[team.Id].Id);
            reps.Add(rep);
            users.Add(rep);
        }
        var benchRep = reps[0];
        var benchManager = managerOf[benchRep.TeamId!.Value];

        var tokens = new[] { benchRep, benchManager, admin }
            .Select(u => NewToken(random, org, u))
            .ToList();
        return new Organisation(org, teams, users, tokens, admin, benchRep, benchManager, reps);
    }

    /// <summary>
    /// Customers, streamed. The bench rep's customers are spread evenly through the sequence (not one block at the
    /// start), so their rows are scattered through the table as they would be after years of use. About 5 % sit in the
    /// pool without an owner. Each row carries where its pursuit stands (<see cref="Histories"/> without the rows).
    /// </summary>
    public IEnumerable<CustomerRow> Customers(Organisation organisation) => Walk(organisation, rows: false).Select(h => h.Customer);

    /// <summary>
    /// Every customer with its follow-ups, stage moves and open tasks, streamed one customer at a time (10 M follow-ups
    /// never sit in memory). Each customer's pursuit draws from its own random sequence (seed and position), so a
    /// customer's history does not depend on the others and <see cref="Customers"/> agrees with it row for row.
    /// </summary>
    public IEnumerable<CustomerHistory> Histories(Organisation organisation) => Walk(organisation, rows: true);

    private IEnumerable<CustomerHistory> Walk(Organisation organisation, bool rows)
    {
        var random = new Random(unchecked(seed * 31 + 7));
        var benchEvery = Math.Max(1, scale.Customers / Math.Max(1, scale.BenchRepCustomers));
        var benchLeft = Math.Min(scale.BenchRepCustomers, scale.Customers);
        var others = organisation.Reps.Skip(1).ToArray();
        var orgId = organisation.Organization.Id;
        var pool = DefaultPool(organisation).Id;
        for (var i = 0; i < scale.Customers; i++)
        {
            Guid? owner;
            if (benchLeft > 0 && (i % benchEvery == 0 || scale.Customers - i <= benchLeft))
            {
                owner = organisation.BenchRep.Id;
                benchLeft--;
            }
            else if (others.Length == 0 || random.Next(20) == 0)
            {
                owner = null;
            }
            else
            {
                owner = others[random.Next(others.Length)].Id;
            }
            var (province, city) = Places[random.Next(Places.Length)];
            var (industry, suffix) = Industries[random.Next(Industries.Length)];
            var company = $"{city}{Brands[random.Next(Brands.Length)]}{suffix}";
            var created = Now.AddSeconds(-random.Next(1, 3 * 365 * 24 * 3600));
            var updated = created.AddSeconds(random.Next(0, 90 * 24 * 3600));
            if (updated > Now)
            {
                updated = Now;
            }
            var mobile = $"+86{MobilePrefixes[random.Next(MobilePrefixes.Length)]}{random.Next(0, 100_000_000):D8}";
            var email = random.Next(10) < 3 ? $"{Pinyin[random.Next(Pinyin.Length)]}{i}@{EmailDomains[random.Next(EmailDomains.Length)]}" : null;
            var customer = new CustomerRow(NewGuid(random), orgId, PersonName(random), company, mobile, email,
                $"{province} {city}", industry, owner, owner, created, updated);
            yield return Pursue(i, customer, organisation.Reps, pool, rows);
        }
    }

    /// <summary>The default pool (公海) the pooled customers sit in; the app would create it on first use.</summary>
    public PoolRow DefaultPool(Organisation organisation)
    {
        var random = new Random(unchecked(seed * 151 + 11));
        return new PoolRow(NewGuid(random), organisation.Organization.Id, "公海", organisation.Organization.CreatedAt);
    }

    public const string ChannelKey = "bench-capture-channel-0001";

    /// <summary>The one capture channel the ingestion scenario posts to; its key is <see cref="ChannelKey"/>.</summary>
    public ChannelRow Channel(Organisation organisation)
    {
        var random = new Random(unchecked(seed * 131 + 3));
        return new ChannelRow(NewGuid(random), organisation.Organization.Id, "官网表单（基准）", "WebForm", "官网", ChannelKey,
            organisation.Organization.CreatedAt);
    }

    /// <summary>
    /// Existing leads on the benchmark channel, streamed, each with a unique mobile (and an email for about 30 %)
    /// and the contact keys the app would have written, so dedup lookups run against a realistic table.
    /// </summary>
    public IEnumerable<LeadRow> Leads(Organisation organisation, ChannelRow channel)
    {
        var random = new Random(unchecked(seed * 61 + 5));
        var orgId = organisation.Organization.Id;
        for (var i = 0; i < scale.Leads; i++)
        {
            var (_, city) = Places[random.Next(Places.Length)];
            var (_, suffix) = Industries[random.Next(Industries.Length)];
            var company = $"{city}{Brands[random.Next(Brands.Length)]}{suffix}";
            var mobile = ContactMobile(i);
            var email = random.Next(10) < 3 ? ContactEmail(i, random) : null;
            var arrived = Now.AddSeconds(-random.Next(1, 365 * 24 * 3600));
            var keys = email is null ? new[] { "m:" + mobile } : new[] { "m:" + mobile, "e:" + email };
            yield return new LeadRow(NewGuid(random), orgId, PersonName(random), company, mobile, email, channel.Id,
                channel.SourceTag, arrived, keys);
        }
    }

    /// <summary>
    /// Capture submissions number <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> − 1 of one
    /// fixed sequence (so the app and its floor can take disjoint ranges). About 10 % repeat an existing lead's mobile
    /// (they become touches); the others are contacts no lead and no other submission has. Every one carries a unique
    /// campaign, so no two payloads are identical (the app would answer an identical payload as a repeat, writing nothing).
    /// </summary>
    public IEnumerable<SubmissionRow> Submissions(int start, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        var random = new Random(unchecked(seed * 97 + 13));
        for (var n = 0; n < start + count; n++)
        {
            var repeat = random.Next(10) == 0;
            var existing = random.Next(Math.Max(1, scale.Leads));
            var withEmail = random.Next(10) < 3;
            var name = PersonName(random);
            // Every row is built (skipped ones too), so a row does not depend on where a range starts.
            SubmissionRow row;
            if (repeat && scale.Leads > 0)
            {
                row = new SubmissionRow(name, ContactMobile(existing), null, $"bench-{n}", true);
            }
            else
            {
                // Indices past the leads' range: unique against the leads and against each other.
                var index = scale.Leads + n;
                row = new SubmissionRow(name, ContactMobile(index), withEmail ? ContactEmail(index, random) : null, $"bench-{n}", false);
            }
            if (n >= start)
            {
                yield return row;
            }
        }
    }

    /// <summary>Header of the generated import file; the app's column guesses map it to name, company, mobile, email.</summary>
    public const string ImportHeader = "姓名,公司名称,手机号码,邮箱";

    /// <summary>
    /// Rows of import file number <paramref name="file"/> (files are disjoint, so the app and its floor each import
    /// new contacts): about 5 % repeat an existing lead's mobile, about 1 % carry an impossible number, the rest are
    /// new contacts (an email for about 30 %). Mobiles are typed three ways: 13800138000, +86 13800138000, 138 0013 8000.
    /// No field contains a comma or a quote, so a line is the fields joined by commas.
    /// </summary>
    public IEnumerable<ImportRow> ImportRows(int file, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(file);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(file, ImportFiles);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, ImportFileSpan);
        var random = new Random(unchecked(seed * 113 + 17 + file * 7919));
        for (var n = 0; n < count; n++)
        {
            var roll = random.Next(100);
            var name = PersonName(random);
            var (_, city) = Places[random.Next(Places.Length)];
            var (_, suffix) = Industries[random.Next(Industries.Length)];
            var company = $"{city}{Brands[random.Next(Brands.Length)]}{suffix}";
            var style = random.Next(3);
            if (roll == 0)
            {
                // 12x is no prefix in use in mainland China, and no area code: invalid however it is typed.
                var bad = $"12{random.Next(0, 1_000_000_000):D9}";
                yield return new ImportRow(name, company, bad, null, ImportRowKind.Invalid, bad);
                continue;
            }
            var repeat = roll <= 5 && scale.Leads > 0;
            var index = repeat ? random.Next(scale.Leads) : ImportIndexBase + file * ImportFileSpan + n;
            var mobile = ContactMobile(index);
            var email = !repeat && random.Next(10) < 3 ? ContactEmail(index, random) : null;
            var national = mobile[3..];
            var typed = style switch
            {
                0 => national,
                1 => "+86 " + national,
                _ => $"{national[..3]} {national[3..7]} {national[7..]}",
            };
            yield return new ImportRow(name, company, typed, email, repeat ? ImportRowKind.Repeat : ImportRowKind.New, mobile);
        }
    }

    /// <summary>The import file as UTF-8 CSV text: <see cref="ImportHeader"/>, then one line per row.</summary>
    public static string ImportCsv(IEnumerable<ImportRow> rows)
    {
        var csv = new StringBuilder(ImportHeader).Append('\n');
        foreach (var r in rows)
        {
            csv.Append(r.Name).Append(',').Append(r.Company).Append(',').Append(r.Mobile).Append(',').Append(r.Email).Append('\n');
        }
        return csv.ToString();
    }

    /// <summary>Contact indices of import files start here (above any lead or submission) and take this many per file.</summary>
    public const int ImportIndexBase = 50_000_000;
    public const int ImportFileSpan = 200_000;

    /// <summary>Import files with distinct contacts: their indices stay below 10^8, where <see cref="ContactMobile"/> is one-to-one.</summary>
    public const int ImportFiles = (100_000_000 - ImportIndexBase) / ImportFileSpan;

    /// <summary>
    /// The mobile of contact number <paramref name="index"/>: E.164, a prefix in use, and 8 digits from a bijection of
    /// the index (7919 is coprime to 10^8), so distinct indices below 10^8 never share a number.
    /// </summary>
    public static string ContactMobile(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        var digits = (int)((index * 7919L + 12_345) % 100_000_000);
        return $"+86{MobilePrefixes[index * 31 % MobilePrefixes.Length]}{digits:D8}";
    }

    private static string ContactEmail(int index, Random random) =>
        $"{Pinyin[random.Next(Pinyin.Length)]}.lead{index}@{EmailDomains[random.Next(EmailDomains.Length)]}";

    private static UserRow NewUser(Random random, OrganizationRow org, string userName, string displayName, string role,
        Guid? teamId, Guid? managerId) =>
        new(NewGuid(random), org.Id, userName, displayName, role, teamId, managerId, $"{userName}@bench.tideflow.local",
            RandomText(random, 32, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), NewGuid(random).ToString(), org.CreatedAt);

    private static ApiTokenRow NewToken(Random random, OrganizationRow org, UserRow user)
    {
        var secret = TokenPrefix + RandomText(random, 43, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_");
        return new ApiTokenRow(NewGuid(random), org.Id, user.Id, "benchmark", secret[..10], HashOf(secret), secret, org.CreatedAt);
    }

    /// <summary>Same as the app's <c>ApiTokens.HashOf</c>: lowercase hex SHA-256 of the UTF-8 secret.</summary>
    public static string HashOf(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>A version-4-shaped Guid from the seeded sequence.</summary>
    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }

    private static string RandomText(Random random, int length, string alphabet)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }
        return new string(chars);
    }

    private static string PersonName(Random random) =>
        Surnames[random.Next(Surnames.Length)] + GivenNames[random.Next(GivenNames.Length)];

    private static string Number(int n) => n switch
    {
        <= 10 => "零一二三四五六七八九十"[n].ToString(),
        _ => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>Mainland mobile prefixes in use (China Mobile, Unicom, Telecom, Broadnet); all 13x–19x.</summary>
    public static readonly string[] MobilePrefixes =
    [
        "130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
        "145", "147", "150", "151", "152", "153", "155", "156", "157", "158", "159",
        "166", "170", "171", "172", "173", "175", "176", "177", "178",
        "180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
        "190", "191", "192", "193", "195", "196", "197", "198", "199",
    ];

    private static readonly string[] Regions = ["华东", "华南", "华北", "华中", "西南", "西北", "东北"];

    private static readonly string[] Surnames =
    [
        "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗",
        "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡",
        "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "欧阳", "司马", "诸葛",
    ];

    private static readonly string[] GivenNames =
    [
        "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平",
        "刚", "桂英", "建华", "晓东", "海燕", "志强", "丹", "鹏", "婷", "欣怡", "子涵", "浩然", "梓萱", "宇轩", "雨桐", "俊杰",
        "佳怡", "文博", "思远", "嘉欣", "国强", "春梅", "建军", "玉兰", "海波", "立新", "晨", "琳", "博", "颖",
    ];

    private static readonly string[] Brands =
    [
        "华创", "金源", "恒信", "东方", "瑞丰", "博远", "佳禾", "中科", "云帆", "汇通", "鼎盛", "天成", "新锐", "宏达", "嘉业",
        "同创", "海纳", "明德", "盛世", "锦程", "华夏", "长青", "万通", "启明", "联创",
    ];

    private static readonly (string Name, string Suffix)[] Industries =
    [
        ("制造业", "机械制造有限公司"), ("零售", "商贸有限公司"), ("软件", "信息技术有限公司"), ("教育", "教育科技有限公司"),
        ("医疗", "医疗器械有限公司"), ("物流", "供应链管理有限公司"), ("餐饮", "餐饮管理有限公司"), ("建筑", "建设工程有限公司"),
        ("金融", "投资咨询有限公司"), ("能源", "新能源科技有限公司"), ("农业", "农业发展有限公司"), ("汽车", "汽车服务有限公司"),
    ];

    private static readonly (string Province, string City)[] Places =
    [
        ("北京", "北京"), ("上海", "上海"), ("天津", "天津"), ("重庆", "重庆"),
        ("江苏", "南京"), ("江苏", "苏州"), ("江苏", "无锡"), ("浙江", "杭州"), ("浙江", "宁波"), ("浙江", "温州"),
        ("安徽", "合肥"), ("福建", "福州"), ("福建", "厦门"), ("山东", "济南"), ("山东", "青岛"),
        ("广东", "广州"), ("广东", "深圳"), ("广东", "东莞"), ("广东", "佛山"), ("广西", "南宁"), ("海南", "海口"),
        ("河北", "石家庄"), ("河南", "郑州"), ("湖北", "武汉"), ("湖南", "长沙"), ("江西", "南昌"),
        ("四川", "成都"), ("贵州", "贵阳"), ("云南", "昆明"), ("陕西", "西安"), ("甘肃", "兰州"),
        ("辽宁", "沈阳"), ("辽宁", "大连"), ("吉林", "长春"), ("黑龙江", "哈尔滨"),
    ];

    private static readonly string[] Pinyin = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun"];

    private static readonly string[] EmailDomains = ["qq.com", "163.com", "126.com", "sina.com", "example.cn", "foxmail.com"];
}
