using System.Security.Cryptography;
using System.Text;
using Btmc.Compute.Jobs;
using Btmc.Compute.Mining;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

/// <summary>What a result must satisfy whether or not it is sampled: lies these checks see catch their contributor.</summary>
public sealed class TaskResultsTests
{
    private static readonly HashRangeRequest Hashing = new("p", Convert.ToHexStringLower([.. Enumerable.Range(0, 78).Select(i => (byte)i)]), 8, 0, 6000, 2000);

    [Fact]
    public async Task CheckAsync_HonestHashRange_CanonicalResultAndItsCountAsWork()
    {
        var found = NonceSearch.Search(Hashing.HeaderBytes(), 8, 2000, 2000, 1);

        var result = await CheckAsync(Hashing, 1, WorkerOutput.ToJson(new HashRangeOutput(2000, found)) + "\n");

        Assert.Equal(2000, result.Work);
        Assert.Equal(found, WorkerOutput.ParseHashRange(result.Canonical).Found);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"kind":"digest","digests":[]}""")]
    [InlineData("""{"kind":"hash-range","hashes":1999,"found":[]}""")]
    [InlineData("""{"kind":"hash-range","hashes":2000,"found":[1]}""")]
    [InlineData("""{"kind":"hash-range","hashes":2000,"found":[4000]}""")]
    [InlineData("""{"kind":"hash-range","hashes":2000,"found":[-3]}""")]
    [InlineData("")]
    public async Task CheckAsync_ProvablyWrongHashRange_Refused(string stdout)
    {
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(Hashing, 1, stdout));
    }

    [Fact]
    public async Task CheckAsync_NonceThatDoesNotMeetTheBits_Refused()
    {
        var header = Hashing.HeaderBytes();
        var miss = Enumerable.Range(2000, 2000).Select(i => (ulong)i).First(n => !ShareHash.Meets(header, n, 8));

        var refused = await Assert.ThrowsAsync<FormatException>(() => CheckAsync(Hashing, 1, WorkerOutput.ToJson(new HashRangeOutput(2000, [miss]))));

        Assert.Contains("does not meet 8 bits", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckAsync_Digest_NamesInOrderAndWorkInBlocks()
    {
        var request = new DigestRequest("p", ["/d/a", "/d/b", "/d/c"], 2);
        var digests = new[] { new FileDigest("in/00000-a", new string('a', 64), 0), new FileDigest("in/00001-b", new string('b', 64), 65) };

        var result = await CheckAsync(request, 0, WorkerOutput.ToJson(new DigestOutput(digests)));
        var swapped = WorkerOutput.ToJson(new DigestOutput([digests[1], digests[0]]));

        Assert.Equal(2, result.Work);
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(request, 0, swapped));
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(request, 0, WorkerOutput.ToJson(new DigestOutput([digests[0]]))));
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(request, 0, """{"kind":"digest","digests":[{"file":"in/00000-a","sha256":"AA","bytes":1}]}"""));
    }

    [Fact]
    public async Task CheckAsync_Render_EachFrameFileMustHaveTheClaimedHash()
    {
        var request = new RenderRequest("p", "/s.blend", 1, 2, 2, null);
        var files = new Dictionary<string, byte[]> { ["out/frame_0001.png"] = [1, 2, 3], ["out/frame_0002.png"] = [4, 5] };
        var frames = files.Select((f, i) => new RenderedFrame(i + 1, f.Key, Convert.ToHexStringLower(SHA256.HashData(f.Value)))).ToList();

        var result = await CheckAsync(request, 0, WorkerOutput.ToJson(new RenderOutput(frames)), files);
        var lying = WorkerOutput.ToJson(new RenderOutput([frames[0], frames[1] with { Sha256 = frames[0].Sha256 }]));

        Assert.Equal(2 * 7, result.Work);
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(request, 0, lying, files));
        await Assert.ThrowsAsync<FormatException>(() => CheckAsync(request, 0, WorkerOutput.ToJson(new RenderOutput(frames)), []));
    }

    private static Task<CheckedResult> CheckAsync(JobRequest request, int index, string stdout, Dictionary<string, byte[]>? files = null) =>
        TaskResults.CheckAsync(request, index, Encoding.UTF8.GetBytes(stdout), (path, _) => Task.FromResult(files?.GetValueOrDefault(path)), 7);
}
