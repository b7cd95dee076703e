namespace Btmc.Ledger.Tests;

/// <summary>Locates the shared test vectors: &lt;repo root&gt;/../shared/testdata, the repo root being the folder holding Serverless.sln.</summary>
internal static class TestData
{
    public static string Root => Btmc.Testing.SharedTestData.Root;

    public static string PathOf(string relativePath) =>
        Path.GetFullPath(Path.Combine(Root, relativePath.Replace('/', Path.DirectorySeparatorChar)));

    /// <summary>Every *.json under the folder, as paths relative to the test data root with '/' separators, sorted.</summary>
    public static IReadOnlyList<string> JsonFilesUnder(string relativeFolder)
    {
        var folder = PathOf(relativeFolder);
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Test vectors not found at {folder}.");
        }

        var files = Directory.GetFiles(folder, "*.json", SearchOption.AllDirectories);
        var result = new List<string>(files.Length);
        foreach (var file in files)
        {
            result.Add(Path.GetRelativePath(Root, file).Replace(Path.DirectorySeparatorChar, '/'));
        }

        result.Sort(StringComparer.Ordinal);
        return result;
    }
}
