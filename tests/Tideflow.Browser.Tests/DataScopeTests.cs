namespace Tideflow.Browser.Tests;

public sealed class DataScopeTests(BrowserApp app) : BrowserTest(app)
{
    [Fact]
    public async Task A_manager_sees_the_customers_of_his_team_and_none_of_the_other_team()
    {
        var page = await NewPageAsync();

        await Ui.LoginAsync(page, "manager.east");
        var inScope = await Ui.CustomersInScopeAsync(page);
        await Ui.OpenAsync(page, "/customers");
        var (owners, total) = await Ui.AllCustomerOwnersAsync(page);

        Assert.Equal(total, owners.Count);
        Assert.Equal(inScope, total);
        string[] team = ["王芳", "刘洋", "陈杰", "张伟 (华东经理)"];
        Assert.Equal(team.Order(StringComparer.Ordinal), owners.Distinct().Order(StringComparer.Ordinal));
        Assert.DoesNotContain(owners, o => o is "赵敏" or "孙丽" or "周强" or "李娜 (华南经理)");
        AssertNoErrors();
    }
}
