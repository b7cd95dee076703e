using Btmc.Infra.Tests.Bicep;
using Xunit;

namespace Btmc.Infra.Tests;

/// <summary>Every Bicep file parses (tree-sitter-bicep: syntax only; no Bicep compiler runs here, so types, module
/// parameters and API versions are not checked).</summary>
public sealed class BicepSyntaxTests
{
    [Fact]
    public void EveryBicepFile_ParsesWithoutErrors()
    {
        var files = Infrastructure.Current.Files;
        Assert.Contains(files, f => f.RelativePath == "infra/main.bicep");
        Assert.True(files.Count >= 6, "infra/ has fewer Bicep files than expected: " + string.Join(", ", files));
        var errors = files.SelectMany(f => f.Root.Descendants().Where(n => n.IsError).Select(n => $"{f.RelativePath}:{n.Row}:{n.Column} {n.Type} '{n.Text}'")).ToList();
        Assert.True(errors.Count == 0, "Syntax errors:\n  " + string.Join("\n  ", errors));
    }

    [Fact]
    public void Parser_ReportsTheErrorInABrokenFile()
    {
        var folder = Directory.CreateTempSubdirectory("btmc-bicep-");
        try
        {
            var broken = Path.Combine(folder.FullName, "broken.bicep");
            File.WriteAllText(broken, "param name string\nresource site 'Microsoft.Web/sites@2024-04-01' = {\n  name: name\n  properties: {\n    httpsOnly: true\n\noutput x string = name\n");
            var parsed = Assert.Single(BicepSyntax.Parse([broken]));
            Assert.Contains(parsed.Root.Descendants(), n => n.IsError);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
