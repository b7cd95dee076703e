using System.Text.Json;
using Btmc.Compute.Jobs;
using Btmc.Ledger;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

public sealed class JobRequestTests
{
    [Fact]
    public void FromJson_SameRequestSpelledDifferently_SameJobId()
    {
        var one = Read("""{"kind":"hash-range","header":"00FF","bits":8,"count":"5000","contributors":["bob","alice"]}""");
        var two = Read("""{"contributors":["alice","bob"],"count":5000,"start":0,"bits":"8","header":"00ff","kind":"hash-range","taskSize":5000}""");

        Assert.Equal(one.CanonicalJson(), two.CanonicalJson());
        Assert.Equal(one.JobId, two.JobId);
        Assert.Equal(64, one.JobId.Length);
        Assert.Equal("""{"version":1,"kind":"hash-range","owner":"local","header":"00ff","bits":8,"start":0,"count":5000,"taskSize":5000,"contributors":["alice","bob"]}""", one.CanonicalJson());
    }

    [Fact]
    public void JobId_OtherOwnerOrParameter_DiffersAndRoundTripsThroughTheCanonicalForm()
    {
        var request = Read("""{"kind":"render","scene":"/s/a.blend","frames":"1-4","framesPerTask":2}""");

        Assert.NotEqual(request.JobId, (request with { Owner = "other" }).JobId);
        Assert.NotEqual(request.JobId, ((RenderRequest)request with { Engine = "CYCLES" }).JobId);
        using var canonical = JsonDocument.Parse(request.CanonicalJson());
        Assert.Equal(request.JobId, JobRequest.FromJson(canonical.RootElement, "local").JobId);
    }

    [Theory]
    [InlineData("""[]""", "body")]
    [InlineData("""{"kind":"mine"}""", "kind")]
    [InlineData("""{"kind":"hash-range","bits":8,"count":10}""", "header")]
    [InlineData("""{"kind":"hash-range","header":"0g","bits":8,"count":10}""", "header")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":0,"count":10}""", "bits")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":257,"count":10}""", "bits")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":-1,"count":10}""", "bits")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":8,"count":0}""", "count")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":1,"count":1000000}""", "count")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":8,"count":10,"start":"18446744073709551615"}""", "start")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":30,"count":100000000,"taskSize":1000}""", "taskSize")]
    [InlineData("""{"kind":"hash-range","header":"00","bits":8,"count":1000000,"taskSize":100000}""", "taskSize")]
    [InlineData("""{"kind":"digest","files":[]}""", "files")]
    [InlineData("""{"kind":"digest","files":["relative/path"]}""", "files[0]")]
    [InlineData("""{"kind":"digest","files":["/a",3]}""", "files[1]")]
    [InlineData("""{"kind":"digest","files":["/a"],"filesPerTask":0}""", "filesPerTask")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"5-2"}""", "frames")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"1-20000"}""", "frames")]
    [InlineData("""{"kind":"render","scene":"ftp://x/a.blend","frames":"1-2"}""", "scene")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"1-2","engine":"POVRAY"}""", "engine")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"1-2","contributors":["alice"]}""", "contributors")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"1-2","contributors":["alice","a/b"]}""", "contributors[0]")]
    [InlineData("""{"kind":"render","scene":"/a.blend","frames":"1-2","contributors":["alice","alice"]}""", "contributors")]
    public void FromJson_BadMember_RejectedNamingIt(string body, string field)
    {
        using var document = JsonDocument.Parse(body);

        var rejected = Assert.Throws<Refused>(() => JobRequest.FromJson(document.RootElement, "local"));

        Assert.Equal(field, rejected.Field);
        Assert.Equal(RefusalKind.Invalid, rejected.Kind);
    }

    [Fact]
    public void FromJson_HashRangeWithoutTaskSize_TaskSizeKeepsAFewHundredFindsPerTask()
    {
        var coarse = (HashRangeRequest)Read("""{"kind":"hash-range","header":"00","bits":24,"count":100000000}""");
        var fine = (HashRangeRequest)Read("""{"kind":"hash-range","header":"00","bits":4,"count":100000}""");

        Assert.Equal(1UL << 20, coarse.TaskSize);
        Assert.Equal(96, coarse.TaskCount);
        Assert.Equal(4096UL, fine.TaskSize);
    }

    private static JobRequest Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        return JobRequest.FromJson(document.RootElement, "local");
    }
}
