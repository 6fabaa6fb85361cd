using System.Globalization;
using System.Text;
using CsvHelper;
using CsvHelper.Configuration;
using MiniExcelLibs;

namespace Tideflow.Web.Features.Leads;

/// <summary>Reads a CSV (UTF-8 or GBK/GB18030, as Chinese Excel saves it) or an .xlsx file into rows of text.</summary>
public static class ImportFile
{
    static ImportFile() => System.Text.Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    public static bool IsExcel(string fileName, byte[] content) =>
        fileName.EndsWith(".xlsx", StringComparison.OrdinalIgnoreCase) ||
        (content.Length > 4 && content[0] == 0x50 && content[1] == 0x4B && content[2] == 0x03 && content[3] == 0x04);

    /// <summary>"utf-8" when the bytes are valid UTF-8 (or carry its BOM), else "gb18030", a superset of GBK.</summary>
    public static string DetectEncoding(byte[] content)
    {
        if (content.Length >= 3 && content[0] == 0xEF && content[1] == 0xBB && content[2] == 0xBF)
        {
            return "utf-8";
        }
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(content);
            return "utf-8";
        }
        catch (DecoderFallbackException)
        {
            return "gb18030";
        }
    }

    public static IEnumerable<string[]> Rows(string fileName, byte[] content, string encoding)
    {
        if (IsExcel(fileName, content))
        {
            foreach (var row in ExcelRows(content))
            {
                yield return row;
            }
            yield break;
        }
        var text = System.Text.Encoding.GetEncoding(encoding);
        using var reader = new StreamReader(new MemoryStream(content), text, detectEncodingFromByteOrderMarks: true);
        using var csv = new CsvParser(reader, new CsvConfiguration(CultureInfo.InvariantCulture)
        {
            DetectDelimiter = true,
            BadDataFound = null,
            MissingFieldFound = null,
        });
        while (csv.Read())
        {
            yield return csv.Record ?? [];
        }
    }

    private static IEnumerable<string[]> ExcelRows(byte[] content)
    {
        using var stream = new MemoryStream(content);
        foreach (IDictionary<string, object?> row in MiniExcel.Query(stream, useHeaderRow: false, excelType: ExcelType.XLSX))
        {
            yield return row.Values.Select(v => v switch
            {
                null => "",
                double d => d.ToString("0.############", CultureInfo.InvariantCulture),
                DateTime t => t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
            }).ToArray();
        }
    }

    /// <summary>Cells that a spreadsheet would run as a formula are prefixed, so a report opened in Excel is inert.</summary>
    public static string Neutralize(string value) =>
        value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;

    public static string ToCsv(IEnumerable<string[]> rows)
    {
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = new CsvWriter(writer, CultureInfo.InvariantCulture))
        {
            foreach (var row in rows)
            {
                foreach (var cell in row)
                {
                    csv.WriteField(Neutralize(cell));
                }
                csv.NextRecord();
            }
        }
        return writer.ToString();
    }
}
