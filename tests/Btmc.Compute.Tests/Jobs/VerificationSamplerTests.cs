using Btmc.Compute.Jobs;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

public sealed class VerificationSamplerTests
{
    private static readonly byte[] Secret = [.. Enumerable.Range(0, 32).Select(i => (byte)i)];
    private static readonly byte[] OtherSecret = [.. Enumerable.Range(0, 32).Select(i => (byte)(255 - i))];

    [Fact]
    public void Sample_SameSecretAndJob_SameTasksEveryTime()
    {
        var first = new VerificationSampler(Secret).Sample("job-a", 1000, 0.1);
        var second = new VerificationSampler(Secret).Sample("job-a", 1000, 0.1);

        Assert.Equal(first, second);
    }

    [Fact]
    public void Sample_OtherSecretOrJob_OtherTasks()
    {
        var sample = new VerificationSampler(Secret).Sample("job-a", 1000, 0.1);

        Assert.NotEqual(sample, new VerificationSampler(OtherSecret).Sample("job-a", 1000, 0.1));
        Assert.NotEqual(sample, new VerificationSampler(Secret).Sample("job-b", 1000, 0.1));
    }

    [Fact]
    public void Sample_ManyTasks_SharesCloseToTheRate()
    {
        var sample = new VerificationSampler(Secret).Sample("job-a", 10_000, 0.1);

        // Binomial(10000, 0.1): mean 1000, standard deviation 30.
        Assert.InRange(sample.Count, 850, 1150);
        Assert.Equal(sample.Order(), sample);
        Assert.Equal(sample.Count, sample.Distinct().Count());
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(1, 0.1)]
    [InlineData(3, 0.0)]
    [InlineData(5, 0.01)]
    public void Sample_RateThatDrawsNone_StillOneTask(int tasks, double rate)
    {
        foreach (var job in Enumerable.Range(0, 50).Select(i => $"job-{i}"))
        {
            var sample = new VerificationSampler(Secret).Sample(job, tasks, rate);

            Assert.NotEmpty(sample);
            Assert.All(sample, i => Assert.InRange(i, 0, tasks - 1));
        }
    }

    [Fact]
    public void Sample_RateOne_EveryTask()
    {
        Assert.Equal(Enumerable.Range(0, 37), new VerificationSampler(Secret).Sample("job-a", 37, 1.0));
    }

    [Fact]
    public void Pick_Candidates_OneOfThemSpreadOverAll()
    {
        var sampler = new VerificationSampler(Secret);
        string[] candidates = ["bob", "alice", "carol"];

        var picks = Enumerable.Range(0, 300).Select(i => sampler.Pick("job-a", TaskRole.Verification, i, candidates)).ToList();

        Assert.All(picks, p => Assert.Contains(p, candidates));
        Assert.All(candidates, c => Assert.InRange(picks.Count(p => p == c), 60, 140));
        Assert.Equal(picks[7], sampler.Pick("job-a", TaskRole.Verification, 7, ["carol", "bob", "alice"]));
        Assert.Throws<ArgumentException>(() => sampler.Pick("job-a", TaskRole.Redo, 0, []));
    }

    [Fact]
    public void TaskId_ExtraTasks_PrefixedAndNotGuessableWithoutTheSecret()
    {
        var sampler = new VerificationSampler(Secret);

        var id = sampler.TaskId("job-a", TaskRole.Verification, 3, "bob");

        Assert.Matches("^v[0-9a-f]{20}$", id);
        Assert.StartsWith("x", sampler.TaskId("job-a", TaskRole.TieBreak, 3, "bob"), StringComparison.Ordinal);
        Assert.StartsWith("r", sampler.TaskId("job-a", TaskRole.Redo, 3, "bob"), StringComparison.Ordinal);
        Assert.NotEqual(id, sampler.TaskId("job-a", TaskRole.Verification, 3, "carol"));
        Assert.NotEqual(id, new VerificationSampler(OtherSecret).TaskId("job-a", TaskRole.Verification, 3, "bob"));
        Assert.Throws<ArgumentException>(() => new VerificationSampler(new byte[16]));
    }
}
