using Btmc.Compute.Jobs;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

public sealed class JobPlannerTests
{
    [Fact]
    public void Plan_HashRange_SlicesTheRangeIntoTaskSizeNoncesTheLastShorter()
    {
        var request = new HashRangeRequest("p", "00ff", 8, 1000, 10_500, 3000);

        var plan = JobPlanner.Plan(request);

        Assert.Equal(4, plan.Count);
        Assert.Equal(["t00000", "t00001", "t00002", "t00003"], plan.Select(t => t.Id));
        Assert.Equal([(1000UL, 3000UL), (4000UL, 3000UL), (7000UL, 3000UL), (10_000UL, 1500UL)], plan.Select(t => JobPlanner.NonceRange(request, t.Index)));
        Assert.Equal(["hash-range", "--header", "00ff", "--bits", "8", "--start", "10000", "--count", "1500"], plan[3].WorkerArguments);
        Assert.All(plan, t => Assert.Empty(t.InputFiles));
    }

    [Fact]
    public void Plan_Digest_GroupsFilesAndNamesTheirCopies()
    {
        var files = new[] { "/data/a.bin", "/data/b c.bin", "https://acct.blob.core.windows.net/in/d%20e.bin?sv=x", "file:///data/f.txt", "/data/.." };
        var request = new DigestRequest("p", files, 2);

        var plan = JobPlanner.Plan(request);

        Assert.Equal(3, plan.Count);
        Assert.Equal(["digest", "in/00000-a.bin", "in/00001-b_c.bin"], plan[0].WorkerArguments);
        Assert.Equal(["in/00002-d_e.bin", "in/00003-f.txt"], plan[1].InputFiles.Select(f => f.FileName));
        Assert.Equal([files[2], files[3]], plan[1].InputFiles.Select(f => f.Source));
        Assert.Equal("in/00004-file", Assert.Single(plan[2].InputFiles).FileName);
    }

    [Fact]
    public void Plan_Render_RunsOfFramesPerTaskWithTheSceneAsInput()
    {
        var request = new RenderRequest("p", "/scenes/shot.blend", 5, 11, 3, "CYCLES");

        var plan = JobPlanner.Plan(request);

        Assert.Equal([(5, 7), (8, 10), (11, 11)], plan.Select(t => JobPlanner.Frames(request, t.Index)));
        Assert.Equal(["render", "--scene", "scene.blend", "--frames", "11-11", "--engine", "CYCLES"], plan[2].WorkerArguments);
        Assert.Equal(new Btmc.Platform.Compute.TaskInputFile("scene.blend", "/scenes/shot.blend"), Assert.Single(plan[0].InputFiles));
        Assert.DoesNotContain("--engine", JobPlanner.Plan(request with { Engine = null })[0].WorkerArguments);
    }
}
