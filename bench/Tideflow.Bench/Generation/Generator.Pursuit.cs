using Tideflow.Domain.Pipeline;

namespace Tideflow.Bench.Generation;

/// <summary>
/// Each customer's pursuit, simulated contact by contact: who followed it up, when, how, what was said and planned, when
/// it moved stage, and what is still open. The rhythm is a rep's: a burst at the start of ownership and around each stage
/// move (the next contact 1–3 days out), then every 3–17 days while the deal is pursued (faster for better grades),
/// every 20–90 days once it goes quiet, and every 45–120 days of care after it is won; a lost customer is not contacted
/// again. Contacts fall on working hours in China (UTC+8), a few in the evening, few at weekends. Every record of an open
/// customer plans its next contact (the app refuses one that does not), and the next record comes about then.
/// </summary>
public sealed partial class Generator
{
    /// <summary>Follow-up records cover the two years before <see cref="Now"/>; a pursuit that started earlier shows from there.</summary>
    public static readonly TimeSpan FollowUpWindow = TimeSpan.FromDays(730);

    /// <summary>
    /// A stage's action (阶段动作, e.g. 准备方案与报价) is generated as an open task only when the stage was entered this
    /// recently. The app closes one only by the next stage move, so a real database would hold older ones open too; with
    /// them every rep's task list would start with months-old actions.
    /// </summary>
    public static readonly TimeSpan OpenStageTaskAge = TimeSpan.FromDays(30);

    private static readonly TimeSpan China = TimeSpan.FromHours(8);
    private static readonly SalesPipeline Pipeline = SalesPipeline.Default;
    private const int Won = 5;
    private const int Lost = 6;

    private CustomerHistory Pursue(int index, CustomerRow c, IReadOnlyList<UserRow> reps, Guid pool, bool rows)
    {
        // Its own sequence per customer: the history does not depend on how many rows other customers drew.
        var r = new Random(Mix(seed, index));
        var records = rows ? new List<FollowUpRecordRow>() : null;
        var moves = rows ? new List<StageChangeRow>() : null;
        var tasks = rows ? new List<FollowUpTaskRow>() : null;
        var windowStart = Now - FollowUpWindow;

        var roll = r.Next(100);
        var grade = roll < 18 ? "A" : roll < 50 ? "B" : "C";
        var score = grade switch { "A" => 70 + r.Next(31), "B" => 40 + r.Next(30), _ => 5 + r.Next(35) };
        var typedIn = r.Next(100) < 35;
        var pooled = c.OwnerId is null;
        var pick = r.Next(reps.Count);
        var previous = reps[pick].Id == c.OwnerId ? reps[(pick + 1) % reps.Count].Id : reps[pick].Id;
        var handedOver = !pooled && r.Next(100) < 8 && previous != c.OwnerId;
        var owner = c.OwnerId ?? previous;
        var firstOwner = pooled || handedOver ? previous : owner;
        // Typed in by its first owner, or routed / handed out a few minutes to hours after it arrived.
        var assigned = typedIn ? c.CreatedAt : Min(c.CreatedAt + TimeSpan.FromMinutes(2 + r.Next(238)), Now);
        var handoverDraw = r.NextDouble();
        DateTimeOffset? handover = handedOver ? Min(assigned + (Now - assigned) * handoverDraw, Now) : null;
        var releaseDraw = r.NextDouble();
        DateTimeOffset? released = pooled ? assigned + (Now - assigned) * (0.3 + 0.7 * releaseDraw) : null;

        var (advance, lose, pursuitDays, fastest, slowest) = grade switch
        {
            "A" => (0.22, 0.02, 40 + r.Next(120), 3, 8),
            "B" => (0.13, 0.04, 25 + r.Next(90), 5, 13),
            _ => (0.06, 0.07, 10 + r.Next(50), 7, 17),
        };
        var (quietMin, quietMax) = grade == "C" ? (30, 90) : (20, 60);
        // Some reps let a customer's planned contact pass: it ends on 逾期未跟进.
        var slips = r.Next(100) < 8;
        var pursuitEnd = assigned + TimeSpan.FromDays(pursuitDays);

        var stage = 0;
        var sequence = 0;
        DateTimeOffset? stageChangedAt = null;
        DateTimeOffset? lastRecordAt = null;
        Guid? lastAuthor = null;
        DateTimeOffset? next = null;
        var contacts = 0;
        var burst = 1;
        var handoverSeen = false;
        // The first contact: usually within the 48 hours the pool allows, sometimes later.
        var t = Snap(r, assigned + TimeSpan.FromMinutes(30 + r.Next(60 * 60)), assigned);
        while (true)
        {
            if (handover is { } h && !handoverSeen && t > h)
            {
                // The new owner calls soon after taking over, whatever the old one planned.
                handoverSeen = true;
                t = Snap(r, h + TimeSpan.FromMinutes(60 + r.Next(47 * 60)), h);
                burst = 1;
            }
            if (t > Now || (released is { } end && t > end))
            {
                break;
            }
            var author = handover is { } ho && t >= ho ? owner : firstOwner;
            contacts++;

            int? moveTo = null;
            if (stage < Won)
            {
                var x = r.NextDouble();
                if (stage == 0)
                {
                    moveTo = x < 0.85 ? 1 : null;
                }
                else if (t < pursuitEnd)
                {
                    moveTo = x < lose ? Lost : x < lose + advance ? stage + 1 : null;
                }
                else if (x < 0.01)
                {
                    moveTo = Lost;
                }
                // A customer back in the pool was not won or lost before it was released.
                if (pooled && moveTo >= Won)
                {
                    moveTo = null;
                }
            }
            var phase = contacts == 1 ? Phase.First
                : stage == Won ? Phase.Care
                : moveTo == Lost ? Phase.Lost
                : t >= pursuitEnd ? Phase.Quiet
                : stage switch { <= 1 => Phase.Intro, 2 => Phase.Needs, 3 => Phase.Quote, _ => Phase.Negotiation };
            var channel = PickChannel(r, phase);
            var contents = Contents[channel][(int)phase];
            // A lost customer's last record says why, in the words the stage move records.
            var lostReason = phase == Phase.Lost ? r.Next(LostReasons.Length) : -1;
            var content = lostReason >= 0 ? contents[lostReason * Tails.Length + r.Next(Tails.Length)] : contents[r.Next(contents.Length)];
            var goals = Goals[(int)phase];
            var goal = r.Next(100) < 40 ? goals[r.Next(goals.Length)] : null;
            var reached = goal is not null && r.Next(100) < 55;

            var days = stage == Won || moveTo == Won ? 45 + r.Next(76)
                : moveTo is > 0 and < Won || burst > 0 ? 1 + r.Next(3)
                : t < pursuitEnd ? fastest + r.Next(slowest - fastest + 1)
                : quietMin + r.Next(quietMax - quietMin + 1);
            var planned = Snap(r, t + TimeSpan.FromDays(days), t);
            // A won customer needs no next step: most still get a care call planned.
            var plans = Plans[(int)phase];
            var plan = stage == Won && r.Next(10) < 3 ? null : plans[r.Next(plans.Length)];
            DateTimeOffset? plannedAt = plan is null ? null : planned;
            var recordId = NewV7(r, t);
            if (t >= windowStart)
            {
                records?.Add(new FollowUpRecordRow(recordId, c.OrganizationId, c.Id, author, ChannelNames[channel], content, goal, reached,
                    plan, plannedAt, t));
                lastRecordAt = t;
                lastAuthor = author;
                next = plannedAt;
            }

            if (moveTo is { } to)
            {
                var at = t + TimeSpan.FromMinutes(5 + r.Next(55));
                var taxNumber = to == Won ? r.NextInt64(1_000_000_000_000_000, 10_000_000_000_000_000) : 0;
                var moveId = NewV7(r, at);
                sequence++;
                moves?.Add(new StageChangeRow(moveId, c.OrganizationId, c.Id, sequence, Pipeline.Stages[stage].Key, Pipeline.Stages[to].Key, author,
                    at, lostReason >= 0 ? LostReasons[lostReason] : null, to == Won ? $$"""{"invoice":{"title":"{{c.Company}}","taxNumber":"91{{taxNumber}}"},"overridden":[]}""" : null));
                stage = to;
                stageChangedAt = at;
                if (to >= Won)
                {
                    // Closing clears the plan and its reminder (MoveStage).
                    next = null;
                }
            }
            if (stage == Lost || (slips && stage < Won && planned < Now && Now - planned < TimeSpan.FromDays(25)))
            {
                break;
            }
            burst--;
            // The contact happens about when planned; one in five a day late.
            t = r.Next(5) == 0 ? Snap(r, planned + TimeSpan.FromDays(1), planned) : planned;
        }

        var assignedAt = handover ?? assigned;
        var ownerSinceContacted = lastRecordAt is { } last && last >= assignedAt && lastAuthor == owner;
        if (!pooled && tasks is not null)
        {
            // A lost customer has none: closing closed them.
            if (!ownerSinceContacted && stage < Won)
            {
                // Handed over (or new) and not contacted by its owner yet: the first contact is due 48 hours after.
                tasks.Add(Task(r, c, owner, "first-contact", null, assignedAt + TimeSpan.FromHours(48), assignedAt));
            }
            else if (next is { } due && stage != Lost)
            {
                tasks.Add(Task(r, c, owner, "next-contact", null, due, lastRecordAt!.Value));
            }
            if (stage is > 0 and < Won && stageChangedAt is { } moved && Now - moved < OpenStageTaskAge
                && Pipeline.Stages[stage].OnEnter.FirstOrDefault(a => a.Kind == StageActionKind.Task) is { } action)
            {
                tasks.Add(Task(r, c, owner, "stage-task", action.Title, moved + TimeSpan.FromHours(action.DueInHours), moved));
            }
        }
        var updated = Max(Max(c.UpdatedAt, released ?? c.CreatedAt), Max(lastRecordAt ?? c.CreatedAt, Max(stageChangedAt ?? c.CreatedAt, assignedAt)));
        var customer = c with
        {
            CreatedById = typedIn ? firstOwner : null,
            UpdatedAt = Min(updated, Now),
            Stage = Pipeline.Stages[stage].Key,
            StageChangedAt = stageChangedAt,
            Grade = grade,
            Score = score,
            AssignedAt = assignedAt,
            LastFollowUpAt = lastRecordAt,
            NextContactAt = pooled ? null : next,
            // Released by its last owner, or taken back by the pool's rule, when its pursuit stopped.
            PoolId = pooled ? pool : null,
            PooledAt = released,
            PoolReason = pooled ? PoolReasons[index % PoolReasons.Length] : null,
        };
        return new CustomerHistory(customer, records ?? [], moves ?? [], tasks ?? [],
            rows ? PoolHistory(index, c, previous, owner, assigned, handover, handoverDraw, released, pool) : []);
    }

    /// <summary>
    /// A claim is generated only this long before <see cref="Now"/>: "claimed today" counts toward a rep's daily claim
    /// limit, which the claim scenario checks to the unit.
    /// </summary>
    public static readonly TimeSpan QuietBeforeNow = TimeSpan.FromDays(2);

    /// <summary>The reason the pool's "no follow-up for N days" rule gives (<see cref="PoolReasons"/>' last).</summary>
    private const string ByRule = "no follow-up for 7 days";

    /// <summary>
    /// The pool stays behind a customer's owners. A pooled customer went there from the rep before (released with the
    /// reason it keeps, or reclaimed by the no-follow-up rule). A customer handed from one rep to another went through the
    /// pool: reclaimed from the first owner up to three days before the second claimed it. Draws none of its own, so the
    /// rest of the data set is what it was without it.
    /// </summary>
    private List<OwnershipChangeRow> PoolHistory(int index, CustomerRow c, Guid previous, Guid owner, DateTimeOffset assigned,
        DateTimeOffset? handover, double handoverDraw, DateTimeOffset? released, Guid pool)
    {
        var history = new List<OwnershipChangeRow>();
        if (handover is { } claimed && claimed < Now - QuietBeforeNow)
        {
            var reclaimed = Max(assigned, claimed - TimeSpan.FromMinutes(30 + (int)(handoverDraw * 1e6) % (72 * 60)));
            history.Add(new OwnershipChangeRow(c.OrganizationId, c.Id, previous, null, ByRule, "NoFollowUp", null, reclaimed, "Reclaimed", pool));
            history.Add(new OwnershipChangeRow(c.OrganizationId, c.Id, null, owner, "claimed from the pool", null, owner, claimed, "Claimed", pool));
        }
        if (released is { } pooledAt)
        {
            var reason = PoolReasons[index % PoolReasons.Length];
            history.Add(reason == ByRule
                ? new OwnershipChangeRow(c.OrganizationId, c.Id, previous, null, reason, "NoFollowUp", null, pooledAt, "Reclaimed", pool)
                : new OwnershipChangeRow(c.OrganizationId, c.Id, previous, null, reason, null, previous, pooledAt, "Released", pool));
        }
        return history;
    }

    /// <summary>An open task; the reminder job has told the owner once it was due, and the manager a day later.</summary>
    private FollowUpTaskRow Task(Random r, CustomerRow c, Guid owner, string kind, string? title, DateTimeOffset due, DateTimeOffset created)
    {
        var reminded = due + TimeSpan.FromMinutes(1 + r.Next(5));
        var escalated = reminded + TimeSpan.FromHours(24);
        return new FollowUpTaskRow(NewV7(r, created), c.OrganizationId, owner, c.Id, kind, title, due, created,
            reminded <= Now ? reminded : null, escalated <= Now ? escalated : null);
    }

    /// <summary>
    /// Working hours in China on the day of <paramref name="t"/> (one contact in ten in the evening, three weekend
    /// contacts in four moved to Monday), always after <paramref name="after"/>.
    /// </summary>
    private static DateTimeOffset Snap(Random r, DateTimeOffset t, DateTimeOffset after)
    {
        var day = t.ToOffset(China).DateTime.Date;
        if (day.DayOfWeek is DayOfWeek.Saturday or DayOfWeek.Sunday && r.Next(4) != 0)
        {
            day = day.AddDays(day.DayOfWeek == DayOfWeek.Saturday ? 2 : 1);
        }
        var minute = r.Next(10) == 0 ? 19 * 60 + r.Next(150) : 9 * 60 + r.Next(570);
        var at = new DateTimeOffset(day.AddMinutes(minute), China).ToUniversalTime();
        return at > after ? at : after + TimeSpan.FromMinutes(30 + r.Next(90));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>A seed per customer from the data set's seed and the customer's position (SplitMix-style finaliser).</summary>
    private static int Mix(int seed, int index)
    {
        var x = ((ulong)(uint)seed << 32) | (uint)index;
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdUL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53UL;
        x ^= x >> 33;
        return (int)(x & 0x7FFF_FFFF);
    }

    /// <summary>A version-7 Guid as the app makes them (<c>Guid.CreateVersion7</c>): the instant's milliseconds first, then random bits.</summary>
    private static Guid NewV7(Random random, DateTimeOffset at)
    {
        Span<byte> b = stackalloc byte[16];
        random.NextBytes(b);
        var ms = at.ToUnixTimeMilliseconds();
        for (var i = 0; i < 6; i++)
        {
            b[i] = (byte)(ms >> (40 - 8 * i));
        }
        b[6] = (byte)(0x70 | (b[6] & 0x0F));
        b[8] = (byte)(0x80 | (b[8] & 0x3F));
        return new Guid(b, bigEndian: true);
    }

    private enum Phase { First, Intro, Needs, Quote, Negotiation, Lost, Quiet, Care }

    /// <summary>Stored as the app stores <c>FollowUpChannel</c> (its name); 电话, 微信, 拜访, 邮件, 会议.</summary>
    private static readonly string[] ChannelNames = [nameof(FollowUpChannel.Phone), nameof(FollowUpChannel.WeChat), nameof(FollowUpChannel.Visit),
        nameof(FollowUpChannel.Email), nameof(FollowUpChannel.Meeting)];

    /// <summary>Weights of phone, WeChat, visit, email, meeting in each phase.</summary>
    private static readonly int[][] ChannelWeights =
    [
        [55, 35, 5, 5, 0], // first contact
        [35, 30, 20, 5, 10], // getting to know the need
        [30, 30, 20, 5, 15],
        [25, 25, 10, 25, 15], // quote
        [25, 15, 25, 5, 30], // negotiation
        [50, 40, 0, 10, 0], // lost
        [40, 45, 0, 15, 0], // quiet
        [40, 30, 20, 10, 0], // care
    ];

    private static int PickChannel(Random r, Phase phase)
    {
        var weights = ChannelWeights[(int)phase];
        var x = r.Next(100);
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }
        return 0;
    }

    private static readonly string[] Openers = ["电话沟通：", "微信沟通：", "上门拜访：", "邮件往来：", "线上会议："];

    private static readonly string[][] Bodies =
    [
        [
            "首次联系，介绍了公司和产品，客户对降本增效比较关注",
            "客户通过官网留资，确认了联系人和基本需求",
            "添加了对接人微信，发送了产品介绍和同行业案例",
            "初步了解客户规模和现有系统，对方愿意进一步交流",
        ],
        [
            "了解客户的业务流程，对方希望统一管理销售线索",
            "客户询问了部署方式和数据安全，已逐项解答",
            "发送了产品演示视频，客户表示会转给业务负责人",
            "确认了决策链：业务部门提需求，IT部门评估",
        ],
        [
            "梳理了客户需求清单，重点是移动端和报表",
            "与业务负责人确认了使用人数和上线时间",
            "客户提出需要与现有ERP对接，已记录待技术评估",
            "做了产品演示，客户对工作台和提醒功能评价不错",
        ],
        [
            "发送了报价单，客户认为价格偏高，需要内部讨论",
            "解释了报价构成，客户希望拿到年付优惠",
            "客户在比较两家供应商的方案，关注实施周期",
            "根据客户反馈调整了方案和报价，已重新发送",
        ],
        [
            "沟通合同条款，客户法务提出付款方式的修改意见",
            "与采购确认了折扣和回款节点，基本达成一致",
            "客户总经理参加了会议，对合作方向认可",
            "合同进入客户内部审批流程，预计两周内完成",
        ],
        [
            // In the order of LostReasons.
            "客户告知已选择其他供应商，项目暂停",
            "客户表示今年没有预算，采购推迟",
            "客户内部调整，项目取消",
            "多次电话和微信均未回复，对接人可能已离职",
            "客户业务方向调整，需求变更，暂不采购",
        ],
        [
            "例行回访，客户近期没有采购计划",
            "客户表示需求还在，但要等下个预算周期",
            "发送了新版本功能介绍，客户暂未回复",
            "节日问候，顺便了解客户近况",
        ],
        [
            "客户回访，系统使用正常，提出了报表导出的需求",
            "了解上线后的使用情况，客户对提醒功能满意",
            "客户新增了两个部门，询问扩容价格",
            "处理了客户反馈的登录问题，已解决",
        ],
    ];

    private static readonly string[] Tails =
    [
        "。", "，客户反馈积极。", "，对方态度一般，需要继续跟进。", "，客户比较忙，约定改天细聊。", "，决策人也在场。", "，会后已整理纪要发给客户。",
    ];

    /// <summary>[channel][phase] → every opener + body + tail, built once so 10 M records share a few hundred strings.</summary>
    private static readonly string[][][] Contents = Openers
        .Select(opener => Bodies.Select(bodies => bodies.SelectMany(b => Tails.Select(t => opener + b + t)).ToArray()).ToArray())
        .ToArray();

    private static readonly string[][] Goals =
    [
        ["确认联系人和需求", "约到产品演示", "添加决策人微信"],
        ["约到产品演示", "了解预算范围", "拿到决策人联系方式"],
        ["确认需求清单", "推动技术评估", "约到上门演示"],
        ["确认报价反馈", "拿到采购流程", "约到商务会议"],
        ["确定签约时间", "敲定合同条款", "确认回款计划"],
        ["了解流失原因"],
        ["了解客户近况", "确认下个预算周期"],
        ["收集使用反馈", "推动续费", "介绍增购方案"],
    ];

    private static readonly string[][] Plans =
    [
        ["两天后电话确认资料反馈", "约下周上门拜访", "发送案例后微信跟进"],
        ["安排产品演示", "约业务负责人详细沟通需求", "发送方案介绍后电话确认"],
        ["准备方案与报价", "约技术负责人评审对接方案", "整理需求清单发客户确认"],
        ["跟进报价反馈", "约采购负责人沟通价格", "根据反馈调整方案"],
        ["跟进合同审批进度", "约客户高层确认合作", "准备合同终稿"],
        ["暂停跟进，半年后再联系"],
        ["下个月例行回访", "下季度再联系", "关注客户预算周期，到时电话沟通"],
        ["季度回访", "下个月了解续费意向", "约客户做使用培训"],
    ];

    /// <summary>The default pool's release reasons, and its rule's own (as ReclaimJob words it).</summary>
    private static readonly string[] PoolReasons = ["客户暂无需求", "多次联系不上", "预算不足", "已选择竞品", ByRule];

    private static readonly string[] LostReasons = ["已选择竞品", "预算不足", "项目取消", "多次联系不上", "需求变更，暂不采购"];
}
