using Tideflow.Domain.Leads;

namespace Tideflow.Domain.Tests.Leads;

public class CustomFieldsTests
{
    private static readonly CustomField FleetSize = new("fleet_size", "车队规模", CustomFieldType.Number, [], Required: true, CustomFieldTarget.Both);
    private static readonly CustomField Contract = new("contract_end", "合同到期", CustomFieldType.Date, [], false, CustomFieldTarget.Customer);
    private static readonly CustomField Erp = new("erp", "现用ERP", CustomFieldType.SingleSelect, ["SAP", "用友", "金蝶"], false, CustomFieldTarget.Lead);
    private static readonly CustomField Modules = new("modules", "模块", CustomFieldType.MultiSelect, ["CRM", "ERP", "MES"], false, CustomFieldTarget.Both);
    private static readonly CustomField Notes = new("notes", "备注", CustomFieldType.Text, [], false, CustomFieldTarget.Both);

    private static string? Problem(CustomField field, params CustomField[] others) =>
        CustomFields.Problem(field, others, LeadFields.ForAssignment)?.Message;

    [Fact]
    public void A_well_formed_field_of_each_type_is_accepted()
    {
        foreach (var field in new[] { FleetSize, Contract, Erp, Modules, Notes })
        {
            Assert.Null(Problem(field));
        }
    }

    [Theory]
    [InlineData("", "The field needs a key.")]
    [InlineData("车队", "Key '车队': use a letter")]
    [InlineData("9lives", "Key '9lives': use a letter")]
    [InlineData("fleet size", "Key 'fleet size': use a letter")]
    [InlineData("budget", "'budget' is already a built-in field")]
    [InlineData("GRADE", "'GRADE' is already a built-in field")]
    public void A_key_that_rules_and_imports_could_not_name_unambiguously_is_refused(string key, string expected)
    {
        Assert.Contains(expected, Problem(FleetSize with { Key = key }));
    }

    [Fact]
    public void The_problem_names_the_request_field_at_fault()
    {
        Assert.Equal("key", CustomFields.Problem(FleetSize with { Key = "x y" }, [], [])?.Field);
        Assert.Equal("label", CustomFields.Problem(FleetSize with { Label = "预算" }, [], ["预算"])?.Field);
        Assert.Equal("options", CustomFields.Problem(Erp with { Options = [] }, [], [])?.Field);
    }

    [Fact]
    public void Keys_and_labels_are_unique_across_the_organisation_ignoring_case()
    {
        Assert.Contains("already uses the name 'FLEET_SIZE'", Problem(Notes with { Key = "FLEET_SIZE" }, FleetSize));
        Assert.Contains("already uses the label '车队规模'", Problem(Notes with { Label = "车队规模" }, FleetSize));
        // A label equal to another field's key would make a form field named so ambiguous.
        Assert.Contains("already uses the label 'fleet_size'", Problem(Notes with { Label = "fleet_size" }, FleetSize));
    }

    [Fact]
    public void Select_options_are_checked_and_only_selects_have_them()
    {
        Assert.Contains("needs at least one option", Problem(Erp with { Options = [] }));
        Assert.Contains("option 'sap' is listed twice", Problem(Erp with { Options = ["SAP", "sap"] }));
        Assert.Contains("must not contain", Problem(Modules with { Options = ["CRM,ERP"] }));
        Assert.Contains("must not contain", Problem(Modules with { Options = ["CRM、ERP"] }));
        Assert.Contains("each option must be 1–", Problem(Erp with { Options = ["SAP", " "] }));
        Assert.Contains("only select fields have options", Problem(Notes with { Options = ["x"] }));
        Assert.Contains("at most 100 options", Problem(Erp with { Options = Enumerable.Range(0, 101).Select(i => $"o{i}").ToList() }));
    }

    [Theory]
    [InlineData("50万", "500000")]
    [InlineData("1,200", "1200")]
    [InlineData(" 12.50 ", "12.5")]
    [InlineData("-3", "-3")]
    public void Numbers_are_stored_as_plain_invariant_decimals(string raw, string stored)
    {
        Assert.Equal((stored, null), CustomFields.Normalize(FleetSize, raw));
    }

    [Theory]
    [InlineData("2026-11-22")]
    [InlineData("2026/11/22")]
    [InlineData("2026.11.22")]
    [InlineData("2026年11月22日")]
    [InlineData(" 2026-11-22 ")]
    public void Dates_are_stored_as_iso_days(string raw)
    {
        Assert.Equal(("2026-11-22", null), CustomFields.Normalize(Contract, raw));
        Assert.Equal(("2026-01-05", null), CustomFields.Normalize(Contract, "2026/1/5"));
    }

    [Theory]
    [InlineData(CustomFieldType.Number, "many", "'many' is not a number.")]
    [InlineData(CustomFieldType.Date, "2026-02-30", "'2026-02-30' is not a date")]
    [InlineData(CustomFieldType.Date, "next week", "'next week' is not a date")]
    public void A_value_that_does_not_fit_the_type_says_why(CustomFieldType type, string raw, string expected)
    {
        var (value, problem) = CustomFields.Normalize(FleetSize with { Type = type }, raw);
        Assert.Null(value);
        Assert.Equal(expected, problem![..expected.Length]);
    }

    [Fact]
    public void Select_values_take_the_options_own_spelling_and_multi_selects_keep_the_admins_order()
    {
        Assert.Equal(("SAP", null), CustomFields.Normalize(Erp, " sap "));
        Assert.Equal("'Oracle' is not one of SAP, 用友, 金蝶.", CustomFields.Normalize(Erp, "Oracle").Problem);
        Assert.Equal(("CRM,MES", null), CustomFields.Normalize(Modules, "mes、crm，MES"));
        Assert.Equal("'WMS' is not one of CRM, ERP, MES.", CustomFields.Normalize(Modules, "CRM, WMS").Problem);
        Assert.Equal("CRM、MES", CustomFields.Display(Modules, "CRM,MES"));
    }

    [Fact]
    public void Blank_means_no_value_and_long_text_is_refused()
    {
        Assert.Equal((null, null), CustomFields.Normalize(Notes, "   "));
        Assert.Equal((null, null), CustomFields.Normalize(FleetSize, null));
        Assert.Equal("at most 500 characters.", CustomFields.Normalize(Notes, new string('x', 501)).Problem);
    }

    [Fact]
    public void Checking_a_form_names_every_bad_or_missing_field_and_keeps_the_good_ones()
    {
        var fields = new[] { FleetSize, Contract, Erp, Modules, Notes };
        var (values, problems) = CustomFields.Check(fields, CustomFieldTarget.Lead,
            [new("erp", "用友"), new("modules", "CRM, XYZ"), new("contract_end", "2026-01-01"), new("notes", "  "), new("colour", "red")], requireAll: true);

        Assert.Equal(new Dictionary<string, string> { ["erp"] = "用友" }, values);
        Assert.Equal("模块: 'XYZ' is not one of CRM, ERP, MES.", problems["modules"]);
        // Contract end belongs to customers only: a lead cannot carry it.
        Assert.Equal("'contract_end' is not a custom field of leads.", problems["contract_end"]);
        Assert.Equal("'colour' is not a custom field of leads.", problems["colour"]);
        Assert.Equal("车队规模: a value is required.", problems["fleet_size"]);
        Assert.Equal(4, problems.Count);
    }

    [Fact]
    public void An_arriving_record_may_miss_required_fields()
    {
        var (values, problems) = CustomFields.Check([FleetSize, Notes], CustomFieldTarget.Customer, [new("Notes", "VIP")], requireAll: false);

        Assert.Empty(problems);
        Assert.Equal("VIP", values["notes"]);
    }

    [Fact]
    public void A_value_given_back_unchanged_is_kept_even_when_its_option_was_since_removed()
    {
        var narrowed = Modules with { Options = ["CRM", "MES"] };
        var stored = new Dictionary<string, string> { ["modules"] = "CRM,ERP" };

        var (values, problems) = CustomFields.Check([narrowed], CustomFieldTarget.Customer, [new("modules", "CRM,ERP")], requireAll: true, stored);
        Assert.Empty(problems);
        Assert.Equal("CRM,ERP", values["modules"]);
        // Changed, it must fit the options as they are now.
        (_, problems) = CustomFields.Check([narrowed], CustomFieldTarget.Customer, [new("modules", "ERP")], requireAll: true, stored);
        Assert.Equal("模块: 'ERP' is not one of CRM, MES.", problems["modules"]);
    }

    [Fact]
    public void Two_fields_whose_keys_differ_only_in_case_do_not_break_every_form()
    {
        var (values, problems) = CustomFields.Check([Notes, Notes with { Key = "NOTES", Label = "备注2" }], CustomFieldTarget.Lead,
            [new("notes", "VIP")], requireAll: false);
        Assert.Empty(problems);
        Assert.Equal("VIP", values["notes"]);
    }

    [Fact]
    public void A_submitted_name_finds_its_field_by_key_or_label()
    {
        var fields = new[] { FleetSize, Erp };
        Assert.Same(FleetSize, CustomFields.Named(fields, " FLEET_SIZE "));
        Assert.Same(Erp, CustomFields.Named(fields, "现用erp"));
        Assert.Null(CustomFields.Named(fields, "budget"));
    }
}
