namespace Btmc.Testing;

/// <summary>
/// The public vectors beside the checkout, at ../shared/testdata (never copied into the repository).
/// Linked into each test project that reads them.
/// </summary>
public static class SharedTestData
{
    public static string RepositoryRoot { get; } = LocateRepositoryRoot();

    public static string Root { get; } = LocateTestData();

    public static string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    private static string LocateRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Serverless.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("Serverless.sln not found above " + AppContext.BaseDirectory);
    }

    private static string LocateTestData()
    {
        var testdata = Path.GetFullPath(Path.Combine(RepositoryRoot, "..", "shared", "testdata"));
        return Directory.Exists(testdata) ? testdata : throw new DirectoryNotFoundException($"Shared test data not found at {testdata}.");
    }
}
