using Tideflow.Domain.Pipeline;

namespace Tideflow.Domain.Tests.Pipeline;

public class FeedbackTagsTests
{
    [Theory]
    [InlineData("客户觉得价格高，想再谈谈", new[] { "价格敏感" })]
    [InlineData("They said it is TOO EXPENSIVE and they are comparing two vendors", new[] { "价格敏感", "考虑竞品" })]
    [InlineData("报表功能不足，另外在和竞品对比", new[] { "功能缺口", "考虑竞品" })]
    [InlineData("约好下周演示", new string[0])]
    [InlineData("", new string[0])]
    public void The_default_rules_tag_chinese_and_english_notes(string text, string[] expected)
    {
        Assert.Equal(expected, FeedbackTags.Tag(FeedbackTags.Default, text));
        Assert.Empty(FeedbackTags.Problems(FeedbackTags.Default));
    }

    [Fact]
    public void Empty_duplicate_and_catastrophically_broad_rules_are_refused_naming_the_rule()
    {
        var problems = FeedbackTags.Problems(
        [
            new("价格敏感", ["价"]),
            new("太宽", ["客户", "ok"]),
            new("", ["交付延迟"]),
            new("价格敏感", ["太贵", "太贵"]),
            new("空", []),
            new("价格,交付", ["交付周期"]),
        ]);
        Assert.Equal(
        [
            "Rule '价格敏感': keyword '价' is so short it would tag almost every follow-up.",
            "Rule '太宽': keyword '客户' is in almost every follow-up.",
            "Rule '太宽': keyword 'ok' is so short it would tag almost every follow-up.",
            "Rule 3: the tag must be 1–20 characters.",
            "Rule '价格敏感': the tag is used by another rule.",
            "Rule '价格敏感': keyword '太贵' is listed twice.",
            "Rule '空': give at least one keyword.",
            "Rule '价格,交付': the tag must not contain a comma.",
        ], problems);
    }
}
