using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Leads;

public class ContactRulesTests
{
    private static readonly HashSet<string> NoBlocklist = [];

    [Theory]
    [InlineData("13800138000", "+8613800138000")]
    [InlineData("138 0013 8000", "+8613800138000")]
    [InlineData("138-0013-8000", "+8613800138000")]
    [InlineData("  13800138000  ", "+8613800138000")]
    [InlineData("+86-138-0013-8000", "+8613800138000")]
    [InlineData("+86 13800138000", "+8613800138000")]
    [InlineData("008613800138000", "+8613800138000")]
    [InlineData("0086 138 0013 8000", "+8613800138000")]
    [InlineData("86 13800138000", "+8613800138000")]
    [InlineData("8613800138000", "+8613800138000")]
    [InlineData("(+86)13800138000", "+8613800138000")]
    [InlineData("（+86）13800138000", "+8613800138000")]
    [InlineData("１３８００１３８０００", "+8613800138000")]
    [InlineData("＋８６ １３８－００１３－８０００", "+8613800138000")]
    [InlineData("013800138000", "+8613800138000")]
    [InlineData("010-6552 9988", "+861065529988")]
    [InlineData("(010)65529988", "+861065529988")]
    [InlineData("+86 10 6552 9988", "+861065529988")]
    [InlineData("+1 650-253-0000", "+16502530000")]
    [InlineData("001 650 253 0000", "+16502530000")]
    [InlineData("0044 20 7946 0958", "+442079460958")]
    [InlineData("+44 20 7946 0958", "+442079460958")]
    public void Valid_Chinese_and_international_formats_become_E164(string raw, string expected)
    {
        Assert.Equal(expected, ContactRules.NormalizePhone(raw, "CN", out var invalid));
        Assert.False(invalid);
    }

    [Theory]
    [InlineData("1380013800")]
    [InlineData("138001380001")]
    [InlineData("12000138000")]
    [InlineData("138 0013 800a")]
    [InlineData("1-800-FLOWERS")]
    [InlineData("13800138000 ext 12")]
    [InlineData("手机13800138000")]
    [InlineData("+86")]
    [InlineData("---")]
    [InlineData("0")]
    [InlineData("+44 20 7946")]
    public void Impossible_numbers_and_text_are_invalid(string raw)
    {
        Assert.Null(ContactRules.NormalizePhone(raw, "CN", out var invalid));
        Assert.True(invalid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("\u3000")]
    public void A_blank_phone_is_absent_not_invalid(string? raw)
    {
        Assert.Null(ContactRules.NormalizePhone(raw, "CN", out var invalid));
        Assert.False(invalid);
    }

    [Theory]
    [InlineData("6502530000", "US", "+16502530000")]
    [InlineData("13800138000", "cn", "+8613800138000")]
    public void National_numbers_are_read_in_the_default_region(string raw, string region, string expected)
    {
        Assert.Equal(expected, ContactRules.NormalizePhone(raw, region, out var invalid));
        Assert.False(invalid);
    }

    [Theory]
    [InlineData("a@b.cn", "a@b.cn")]
    [InlineData("  Zhang.Wei@Example.COM ", "zhang.wei@example.com")]
    [InlineData("<a@b.cn>", "a@b.cn")]
    [InlineData("mailto:a@b.cn", "a@b.cn")]
    [InlineData("MAILTO:A@B.CN", "a@b.cn")]
    [InlineData("<mailto:a@b.cn>", "a@b.cn")]
    [InlineData("a＠b.cn", "a@b.cn")]
    [InlineData("ａ＠ｂ．ｃｎ", "a@b.cn")]
    [InlineData("first+tag@sub.example.com.cn", "first+tag@sub.example.com.cn")]
    [InlineData("wang@例子.中国", "wang@例子.中国")]
    public void Valid_emails_are_trimmed_and_lower_cased(string raw, string expected)
    {
        Assert.Equal(expected, ContactRules.NormalizeEmail(raw, out var invalid));
        Assert.False(invalid);
    }

    [Theory]
    [InlineData("a@b")]
    [InlineData("a b@c.cn")]
    [InlineData("a@@b.cn")]
    [InlineData("@b.cn")]
    [InlineData("a@")]
    [InlineData("ab.cn")]
    [InlineData("a@b@c.cn")]
    [InlineData("a@.cn")]
    [InlineData("a@b..cn")]
    [InlineData("a@b.cn.")]
    [InlineData("a@-b.cn")]
    [InlineData(".a@b.cn")]
    [InlineData("张伟 <a@b.cn>")]
    [InlineData("mailto:")]
    public void Malformed_emails_are_invalid(string raw)
    {
        Assert.Null(ContactRules.NormalizeEmail(raw, out var invalid));
        Assert.True(invalid);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void A_blank_email_is_absent_not_invalid(string? raw)
    {
        Assert.Null(ContactRules.NormalizeEmail(raw, out var invalid));
        Assert.False(invalid);
    }

    [Fact]
    public void An_email_may_be_254_characters_but_not_255()
    {
        var longest = new string('a', 254 - "@b.cn".Length) + "@b.cn";
        Assert.Equal(longest, ContactRules.NormalizeEmail(longest, out var invalid));
        Assert.False(invalid);

        Assert.Null(ContactRules.NormalizeEmail("a" + longest, out invalid));
        Assert.True(invalid);
    }

    [Theory]
    [InlineData("  张伟 ", "张伟")]
    [InlineData("John   Smith", "John Smith")]
    [InlineData("王\u3000芳", "王 芳")]
    [InlineData("   ", null)]
    [InlineData(null, null)]
    public void Names_are_trimmed_and_whitespace_collapsed(string? raw, string? expected) =>
        Assert.Equal(expected, ContactRules.NormalizeName(raw));

    [Theory]
    [InlineData("  深圳市\u3000恒信商贸  有限公司 ", "深圳市 恒信商贸 有限公司")]
    [InlineData("ＡＢＣ（中国）有限公司", "ABC(中国)有限公司")]
    [InlineData("Acme Co., Ltd.", "Acme Co., Ltd.")]
    [InlineData("  ", null)]
    [InlineData(null, null)]
    public void Company_names_are_collapsed_and_full_width_folded(string? raw, string? expected) =>
        Assert.Equal(expected, ContactRules.NormalizeCompany(raw));

    [Theory]
    [InlineData("深圳市 恒信商贸有限公司", "深圳市恒信商贸")]
    [InlineData("深圳市恒信商贸(有限公司)", "深圳市恒信商贸")]
    [InlineData("深圳市恒信商贸（有限公司）", "深圳市恒信商贸")]
    [InlineData("【深圳市】恒信商贸有限公司", "深圳市恒信商贸")]
    [InlineData("恒信商贸有限责任公司", "恒信商贸")]
    [InlineData("海尔集团股份有限公司", "海尔")]
    [InlineData("恒信(集团)有限公司", "恒信")]
    [InlineData("恒信公司", "恒信")]
    [InlineData("恒信分公司", "恒信分")]
    [InlineData("Acme Co., Ltd.", "acme")]
    [InlineData("ACME Co.,Ltd", "acme")]
    [InlineData("ACME Inc.", "acme")]
    [InlineData("Acme, LLC", "acme")]
    [InlineData("Acme Company Limited", "acme")]
    [InlineData("ＡＣＭＥ　Ｃｏ．，Ｌｔｄ．", "acme")]
    [InlineData("Acme (China) Co., Ltd.", "acmechina")]
    [InlineData("Costco", "costco")]
    [InlineData("公司", "公司")]
    [InlineData("Inc.", "inc")]
    [InlineData("（）", null)]
    [InlineData("  ", null)]
    [InlineData(null, null)]
    public void Company_keys_ignore_spacing_punctuation_case_and_legal_form(string? company, string? expected) =>
        Assert.Equal(expected, ContactRules.CompanyKey(company));

    [Fact]
    public void Normalize_cleans_every_field()
    {
        var contact = ContactRules.Normalize(
            new ContactInput("  王  芳 ", "深圳市 恒信商贸（有限公司）", "+86 138-0013-8000", " Wang.Fang@HengXin.CN "), NoBlocklist);

        Assert.Equal("王 芳", contact.Name);
        Assert.Equal("深圳市 恒信商贸(有限公司)", contact.Company);
        Assert.Equal("深圳市恒信商贸", contact.CompanyKey);
        Assert.Equal("+8613800138000", contact.Mobile);
        Assert.Equal("wang.fang@hengxin.cn", contact.Email);
        Assert.Empty(contact.Problems);
        Assert.True(contact.IsValid);
    }

    [Theory]
    [InlineData("13800138000", null)]
    [InlineData(null, "a@b.cn")]
    [InlineData("13800138000", "a@b.cn")]
    [InlineData(null, null, ContactProblem.NoContact)]
    [InlineData("  ", "", ContactProblem.NoContact)]
    [InlineData("1380013800", null, ContactProblem.NoContact, ContactProblem.InvalidMobile)]
    [InlineData(null, "a@b", ContactProblem.NoContact, ContactProblem.InvalidEmail)]
    [InlineData("1380013800", "a@b.cn", ContactProblem.InvalidMobile)]
    [InlineData("13800138000", "a@b", ContactProblem.InvalidEmail)]
    [InlineData("1380013800", "a@b", ContactProblem.NoContact, ContactProblem.InvalidMobile, ContactProblem.InvalidEmail)]
    [InlineData("+8613900000000", "a@b", ContactProblem.InvalidEmail, ContactProblem.Blocklisted)]
    [InlineData("+8613900000000", "x@mailinator.com", ContactProblem.Blocklisted)]
    [InlineData("1380013800", "x@mailinator.com", ContactProblem.InvalidMobile, ContactProblem.Blocklisted)]
    public void Normalize_reports_each_problem_once_in_enum_order(string? mobile, string? email, params ContactProblem[] expected)
    {
        var blocklist = new HashSet<string> { "+8613900000000", "mailinator.com" };

        var contact = ContactRules.Normalize(new ContactInput("王芳", null, mobile, email), blocklist);

        Assert.Equal(expected, contact.Problems);
        Assert.Equal(expected.Length == 0, contact.IsValid);
    }

    [Theory]
    [InlineData("138 0013 8000", null, "+8613800138000", true)]
    [InlineData("13800138000", null, "+8613800138001", false)]
    [InlineData(null, " Spam@Example.com", "spam@example.com", true)]
    [InlineData(null, "spam@example.com", "SPAM@EXAMPLE.COM", true)]
    [InlineData(null, "x@MAILINATOR.com", "mailinator.com", true)]
    [InlineData(null, "x@mailinator.com", "MAILINATOR.COM", true)]
    [InlineData(null, "x@example.com", "mailinator.com", false)]
    [InlineData(null, "mailinator.com@example.com", "mailinator.com", false)]
    [InlineData(null, "x@notmailinator.com", "mailinator.com", false)]
    public void The_blocklist_matches_normalized_mobile_email_or_email_domain(string? mobile, string? email, string entry, bool blocked)
    {
        var contact = ContactRules.Normalize(new ContactInput(null, null, mobile, email), new HashSet<string> { entry });

        Assert.Equal(blocked, contact.Problems.Contains(ContactProblem.Blocklisted));
    }

    [Fact]
    public void A_blocklisted_contact_keeps_its_values_and_is_not_also_without_contact()
    {
        var blocklist = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "+8613800138000", "MAILINATOR.COM" };

        var contact = ContactRules.Normalize(new ContactInput(null, null, "138 0013 8000", "x@mailinator.com"), blocklist);

        Assert.Equal("+8613800138000", contact.Mobile);
        Assert.Equal("x@mailinator.com", contact.Email);
        Assert.Equal([ContactProblem.Blocklisted], contact.Problems);
        Assert.False(contact.IsValid);
    }

    [Fact]
    public void Normalize_uses_the_given_default_region()
    {
        var contact = ContactRules.Normalize(new ContactInput(null, null, "(650) 253-0000", null), NoBlocklist, "US");

        Assert.Equal("+16502530000", contact.Mobile);
        Assert.True(contact.IsValid);
    }
}
