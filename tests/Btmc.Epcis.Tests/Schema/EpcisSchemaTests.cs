using System.Text.Json;
using Btmc.Epcis.Schema;
using Btmc.Testing;
using Xunit;

namespace Btmc.Epcis.Tests.Schema;

public sealed class EpcisSchemaTests
{
    public static TheoryData<string> Gs1Examples() => JsonLdFiles("epcis-examples");

    /// <summary>The hash vectors' EPCIS documents; contexts/ holds the JSON-LD context files they use, not EPCIS documents.</summary>
    public static TheoryData<string> HashExamples() => JsonLdFiles("epcis-hash", exceptUnder: "contexts");

    [Theory]
    [MemberData(nameof(Gs1Examples))]
    public void Validate_EveryGs1Example_HasNoProblems(string example)
    {
        var problems = ValidateFile("epcis-examples", example);

        Assert.True(problems.Count == 0, Describe(problems));
    }

    [Theory]
    [MemberData(nameof(HashExamples))]
    public void Validate_EveryHashExample_HasNoProblems(string example)
    {
        var problems = ValidateFile("epcis-hash", example);

        Assert.True(problems.Count == 0, Describe(problems));
    }

    [Theory]
    [InlineData("gs1.github.io_EPCIS_epcis-context.jsonld")]
    [InlineData("ref.gs1.org_standards_epcis_2.0.0_epcis-context.jsonld")]
    public void Validate_HashContextFile_IsRefusedAsNotAnEpcisDocument(string context)
    {
        var problems = ValidateFile("epcis-hash", Path.Combine("contexts", context));

        Assert.Equal([new EpcisProblem(null, "/type", "Missing required member 'type'.")], problems);
    }

    internal static string Describe(IReadOnlyList<EpcisProblem> problems) =>
        string.Join(Environment.NewLine, problems.Select(p => $"[{p.EventIndex}] {p.Pointer}: {p.Detail}"));

    private static IReadOnlyList<EpcisProblem> ValidateFile(string folder, string relativePath)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(SharedTestData.PathOf(folder, relativePath)), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip });
        return EpcisSchema.Validate(document.RootElement);
    }

    private static TheoryData<string> JsonLdFiles(string folder, string? exceptUnder = null)
    {
        var root = SharedTestData.PathOf(folder);
        var data = new TheoryData<string>();
        foreach (var file in Directory.EnumerateFiles(root, "*.jsonld", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file);
            if (exceptUnder is null || !relative.StartsWith(exceptUnder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                data.Add(relative);
            }
        }

        return data;
    }
}
