using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Leads;

public class DuplicateRulesTests
{
    private static readonly HashSet<string> NoBlocklist = [];

    private static NormalizedContact Contact(string? name, string? company, string? mobile = null, string? email = null) =>
        ContactRules.Normalize(new ContactInput(name, company, mobile, email), NoBlocklist);

    [Theory]
    [InlineData("138 0013 8000", " A@B.cn ", new[] { "m:+8613800138000", "e:a@b.cn" })]
    [InlineData("008613800138000", null, new[] { "m:+8613800138000" })]
    [InlineData(null, "<mailto:A@B.CN>", new[] { "e:a@b.cn" })]
    [InlineData("1380013800", "a@b.cn", new[] { "e:a@b.cn" })]
    [InlineData("13800138000", "a@b", new[] { "m:+8613800138000" })]
    [InlineData(null, null, new string[0])]
    [InlineData("1380013800", "a@b", new string[0])]
    public void Keys_are_the_normalized_mobile_and_email_that_exist(string? mobile, string? email, string[] expected) =>
        Assert.Equal(expected, DuplicateRules.Keys(Contact(null, null, mobile, email)));

    [Fact]
    public void The_same_number_typed_two_ways_gives_the_same_keys()
    {
        var first = DuplicateRules.Keys(Contact("王芳", null, "+86-138-0013-8000", "Wang@B.cn"));
        var second = DuplicateRules.Keys(Contact("王芳", null, "１３８ ００１３ ８０００", "wang@b.cn"));

        Assert.Equal(first, second);
        Assert.NotEmpty(first);
    }

    [Theory]
    [InlineData("王芳", "深圳市 恒信商贸有限公司", "王芳", "深圳市恒信商贸(有限公司)", true)]
    [InlineData("王芳", "恒信商贸", "王方", "恒信商贸", true)]
    [InlineData("张伟", "恒信商贸", "张伟总", "恒信商贸", true)]
    [InlineData("王小芳", "恒信商贸", "王芳", "恒信商贸", true)]
    [InlineData("王  芳", "恒信商贸", "王 芳", "恒信商贸", true)]
    [InlineData("John  Smith", "Acme Inc.", "john smith", "ACME Co., Ltd.", true)]
    [InlineData("王", "恒信商贸", "王", "恒信商贸", true)]
    [InlineData("王", "恒信商贸", "汪", "恒信商贸", false)]
    [InlineData("王", "恒信商贸", "王芳", "恒信商贸", false)]
    [InlineData("王芳", "恒信商贸", "芳王", "恒信商贸", false)]
    [InlineData("王晓芳", "恒信商贸", "李晓明", "恒信商贸", false)]
    [InlineData("王芳", "恒信商贸", "李明", "恒信商贸", false)]
    [InlineData("王芳", "恒信商贸", "王芳", "华润商贸", false)]
    [InlineData("王芳", null, "王芳", null, false)]
    [InlineData("王芳", "恒信商贸", "王芳", null, false)]
    [InlineData(null, "恒信商贸", "王芳", "恒信商贸", false)]
    [InlineData(null, "恒信商贸", null, "恒信商贸", false)]
    public void Suspected_duplicates_need_the_same_company_and_similar_names(
        string? nameA, string? companyA, string? nameB, string? companyB, bool expected)
    {
        var a = Contact(nameA, companyA);
        var b = Contact(nameB, companyB);

        Assert.Equal(expected, DuplicateRules.IsSuspectedDuplicate(a, b));
        Assert.Equal(expected, DuplicateRules.IsSuspectedDuplicate(b, a));
    }
}
