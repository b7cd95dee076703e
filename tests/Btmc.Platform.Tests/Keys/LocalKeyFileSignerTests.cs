using Btmc.Ledger;
using Btmc.Platform.Keys;
using Xunit;

namespace Btmc.Platform.Tests.Keys;

public sealed class LocalKeyFileSignerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("btmc-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void OpenOrCreate_NoKeyFile_CreatesOneReadableByTheOwnerOnly()
    {
        var path = Path.Combine(_directory, "keys", "producer.pem");

        using var signer = LocalKeyFileSigner.OpenOrCreate(path);

        Assert.True(signer.Created);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(path), StringComparison.Ordinal);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void OpenOrCreate_ExistingKeyFile_LoadsTheSameKey()
    {
        var path = Path.Combine(_directory, "producer.pem");
        using var first = LocalKeyFileSigner.OpenOrCreate(path);

        using var second = LocalKeyFileSigner.OpenOrCreate(path);

        Assert.False(second.Created);
        Assert.Equal(first.KeyId, second.KeyId);
        Assert.Equal(first.PublicKey, second.PublicKey);
    }

    [Fact]
    public async Task SignDigestAsync_Digest_VerifiesWithThePublicKeyAndKeyIdIsItsThumbprint()
    {
        using var signer = LocalKeyFileSigner.OpenOrCreate(Path.Combine(_directory, "producer.pem"));
        var digest = Hash32.Compute("block"u8);

        var signature = await signer.SignDigestAsync(digest);

        Assert.Equal(64, signature.Length);
        Assert.True(BlockSignature.Verify(signer.PublicKey, digest, signature));
        Assert.False(BlockSignature.Verify(signer.PublicKey, Hash32.Compute("other"u8), signature));
        Assert.Equal(signer.PublicKey.ComputeThumbprint(), signer.KeyId);
        Assert.Equal(signer.KeyId, signer.PublicKey.Kid);
        Assert.Equal(SignatureAlgorithm.ES256, signer.PublicKey.Algorithm);
    }
}
