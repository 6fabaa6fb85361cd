using System.Globalization;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Tideflow.Browser.Tests;

public sealed class ScoringTests(BrowserApp app) : BrowserTest(app)
{
    private const string LeadName = "评分测试 韩梅";

    /// <summary>
    /// The lead says budget 80万 (≥ 500000: all of the budget weight), "本季度" (50% of urgency) and "影响者"
    /// (50% of authority); channel quality weighs 0 by default. Under ScoreCard.Default that is
    /// 40 + 15 + 15 = 70, grade A; with budget weighing 10 and channel quality 30 it is 10 + 15 + 15 + 9 = 49, grade B
    /// (a lead typed in by hand reads as channel kind Manual, which the default channel bands give 30 %: 9 of 30).
    /// </summary>
    [Fact]
    public async Task An_admin_reweights_the_score_card_simulates_saves_and_rescores_and_the_lead_is_regraded()
    {
        var admin = await NewPageAsync();
        await Ui.LoginAsync(admin, "admin");
        await Ui.OpenAsync(admin, "/admin/scoring");
        var version = await VersionAsync(admin);

        var leadPath = await Ui.NewLeadAsync(admin, LeadName, "187 0000 3131", budget: "80万", urgency: "本季度", authority: "影响者");
        await Expect(admin.Locator("[data-testid=lead-grade]")).ToHaveTextAsync("A · 70");
        await Expect(admin.Locator("[data-testid=score-explanation]"))
            .ToHaveTextAsync("预算 Budget 40/40, 紧迫度 Urgency 15/30, 决策权 Authority 15/30 → 70, grade A");
        await Expect(admin.Locator("[data-testid=score-version]")).ToHaveTextAsync($"评分规则版本 v{version}");

        await Ui.OpenAsync(admin, "/admin/scoring");
        await SetWeightAsync(admin, 0, 10); // budget
        await Expect(admin.Locator("[data-testid=weights-total]")).ToHaveTextAsync("权重合计 70%");
        await SetWeightAsync(admin, 3, 30); // channel quality
        await Expect(admin.Locator("[data-testid=weights-total]")).ToHaveTextAsync("权重合计 100%");

        // The simulation scores the newest leads with the draft, ours among them, and saves nothing.
        await admin.ClickAsync("[data-testid=simulate]");
        var simulated = admin.Locator("[data-testid=sim-row]", new() { HasTextString = LeadName });
        await Expect(simulated.Locator("[data-testid=sim-grade]")).ToHaveTextAsync("49 B");
        await Expect(admin.Locator("[data-testid=card-version]")).ToHaveTextAsync($"版本 {version}");

        await admin.ClickAsync("[data-testid=save-card]");
        await Expect(admin.Locator("[data-testid=card-version]")).ToHaveTextAsync($"版本 {version + 1}");

        // Saving leaves scores alone until the re-score, which runs in the background and reports its progress.
        await admin.ClickAsync("[data-testid=rescore]");
        await Expect(admin.Locator("[data-testid=rescore-progress]")).ToBeVisibleAsync();
        await Expect(admin.Locator("[data-testid=rescore-status]")).ToContainTextAsync("已完成", new() { Timeout = 60_000 });
        await Expect(admin.Locator("[data-testid=rescore-status]")).ToContainTextAsync($"v{version + 1}");
        await Expect(admin.Locator("[data-testid=rescore]")).ToBeEnabledAsync();

        await Ui.OpenAsync(admin, leadPath);
        await Expect(admin.Locator("[data-testid=lead-grade]")).ToHaveTextAsync("B · 49");
        await Expect(admin.Locator("[data-testid=score-explanation]")).ToHaveTextAsync(
            "预算 Budget 10/10, 紧迫度 Urgency 15/30, 决策权 Authority 15/30, 渠道质量 Channel quality 9/30 → 49, grade B");
        await Expect(admin.Locator("[data-testid=score-line]", new() { HasTextString = "渠道质量" })).ToContainTextAsync("9 / 30");
        await Expect(admin.Locator("[data-testid=score-version]")).ToHaveTextAsync($"评分规则版本 v{version + 1}");
        AssertNoErrors();
    }

    private static async Task<int> VersionAsync(IPage page)
    {
        var chip = await page.Locator("[data-testid=card-version]").InnerTextAsync();
        return int.Parse(chip.Replace("版本", "", StringComparison.Ordinal).Trim(), CultureInfo.InvariantCulture);
    }

    private static async Task SetWeightAsync(IPage page, int criterion, int weight)
    {
        var field = page.Locator(Ui.Field($"weight-{criterion}"));
        await field.FillAsync(weight.ToString(CultureInfo.InvariantCulture));
        await field.PressAsync("Tab");
    }

    [Fact]
    public Task An_admin_saving_scoring_rules_over_a_version_another_admin_saved_since_is_told_to_reload() =>
        AssertStaleSaveRefusedAsync("/admin/scoring", "save-card", "card-version", "其他人已保存了评分规则");
}
