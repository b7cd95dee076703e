using Btmc.Compute.Jobs;
using Btmc.Ledger;
using Btmc.Testing;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

/// <summary>Where job inputs may come from: the inputs folder (embedded) or the deployment's blob account (Azure), nothing else.</summary>
public sealed class JobInputsTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly JobInputs _folder;

    public JobInputsTests()
    {
        _folder = JobInputs.InFolder(_directory.Combine("inputs"));
        Directory.CreateDirectory(_directory.Combine("inputs", "scenes"));
        File.WriteAllText(_directory.Combine("inputs", "scenes", "a.blend"), "scene");
        File.WriteAllText(_directory.Combine("secret.key"), "not for partners");
    }

    [Fact]
    public void Check_FileInTheFolder_IsAccepted()
    {
        _folder.Check("scene", _directory.Combine("inputs", "scenes", "a.blend"));
        _folder.Check("scene", new Uri(_directory.Combine("inputs", "scenes", "a.blend")).AbsoluteUri);
    }

    [Fact]
    public void Check_MissingFileInTheFolder_IsInvalidNamingTheField()
    {
        var refused = Assert.Throws<Refused>(() => _folder.Check("files[2]", _directory.Combine("inputs", "absent.bin")));

        Assert.Equal(("files[2]", RefusalKind.Invalid), (refused.Field, refused.Kind));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("file:///etc/passwd")]
    [InlineData("https://example.com/scene.blend")]
    [InlineData("http://169.254.169.254/metadata/instance")]
    public void Check_AnotherServerPathOrAnyUrl_IsForbidden(string source)
    {
        var refused = Assert.Throws<Refused>(() => _folder.Check("scene", source));

        Assert.Equal(("scene", RefusalKind.Forbidden), (refused.Field, refused.Kind));
    }

    [Fact]
    public void Check_DotDotOutOfTheFolder_IsForbidden()
    {
        var refused = Assert.Throws<Refused>(() => _folder.Check("scene", _directory.Combine("inputs", "scenes", "..", "..", "secret.key")));

        Assert.Equal(RefusalKind.Forbidden, refused.Kind);
    }

    [Fact]
    public void Check_FolderNameAsPrefixOfASibling_IsForbidden()
    {
        Directory.CreateDirectory(_directory.Combine("inputs-other"));
        File.WriteAllText(_directory.Combine("inputs-other", "x.bin"), "x");

        Assert.Equal(RefusalKind.Forbidden, Assert.Throws<Refused>(() => _folder.Check("files[0]", _directory.Combine("inputs-other", "x.bin"))).Kind);
    }

    [Fact]
    public void Check_LinkInTheFolderToAFileOutside_IsForbidden()
    {
        File.CreateSymbolicLink(_directory.Combine("inputs", "key.bin"), _directory.Combine("secret.key"));

        Assert.Equal(RefusalKind.Forbidden, Assert.Throws<Refused>(() => _folder.Check("files[0]", _directory.Combine("inputs", "key.bin"))).Kind);
    }

    [Fact]
    public void Check_LinkedFolderLeadingOutside_IsForbidden()
    {
        Directory.CreateSymbolicLink(_directory.Combine("inputs", "up"), _directory.Path);

        Assert.Equal(RefusalKind.Forbidden, Assert.Throws<Refused>(() => _folder.Check("files[0]", _directory.Combine("inputs", "up", "secret.key"))).Kind);
    }

    [Fact]
    public void Check_LinkToAnotherFileInTheFolder_IsAccepted()
    {
        File.CreateSymbolicLink(_directory.Combine("inputs", "same.blend"), _directory.Combine("inputs", "scenes", "a.blend"));

        _folder.Check("scene", _directory.Combine("inputs", "same.blend"));
    }

    [Fact]
    public void Check_HttpsBlobOfTheAccount_IsAccepted()
    {
        JobInputs.InBlobs(new Uri("https://acct.blob.core.windows.net/")).Check("scene", "https://acct.blob.core.windows.net/scenes/a.blend");
    }

    [Theory]
    [InlineData("http://acct.blob.core.windows.net/scenes/a.blend")]
    [InlineData("https://other.blob.core.windows.net/scenes/a.blend")]
    [InlineData("https://acct.blob.core.windows.net@evil.example/a.blend")]
    [InlineData("https://acct.blob.core.windows.net:8443/scenes/a.blend")]
    [InlineData("/etc/passwd")]
    [InlineData("file:///etc/passwd")]
    public void Check_AnythingButABlobOfTheAccount_IsForbidden(string source)
    {
        var refused = Assert.Throws<Refused>(() => JobInputs.InBlobs(new Uri("https://acct.blob.core.windows.net/")).Check("scene", source));

        Assert.Equal(("scene", RefusalKind.Forbidden), (refused.Field, refused.Kind));
    }

    public void Dispose() => _directory.Dispose();
}
