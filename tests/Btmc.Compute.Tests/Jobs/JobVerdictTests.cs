using Btmc.Compute.Jobs;
using Xunit;

namespace Btmc.Compute.Tests.Jobs;

/// <summary>The crediting rules: who is caught, what is re-executed, and who is credited, as a function of the tasks.</summary>
public sealed class JobVerdictTests
{
    private const string Job = "job-a";
    private static readonly VerificationSampler Sampler = new([.. Enumerable.Range(0, 32).Select(i => (byte)i)]);
    private static readonly string[] Three = ["alice", "bob", "mallory"];

    [Fact]
    public void Evaluate_AllResultsInAndTheCheckAgrees_CompleteAndEveryTaskCredited()
    {
        List<JobTask> tasks = [Original(0, "alice", "r0"), Original(1, "bob", "r1"), Original(2, "mallory", "r2"), Verify(1, "alice", "r1")];

        var verdict = Evaluate(tasks);

        Assert.True(verdict.IsComplete);
        Assert.Empty(verdict.NewTasks);
        Assert.Empty(verdict.Caught);
        Assert.Equal(["r0", "r1", "r2"], verdict.Results!.Select(r => r.Result));
        Assert.Equal(CheckDecision.Agreed, Assert.Single(verdict.Checks).Decision);
        Assert.Equal(tasks, verdict.Credited(tasks));
    }

    [Fact]
    public void Evaluate_TaskStillRunning_NotCompleteAndNobodyCredited()
    {
        List<JobTask> tasks = [Original(0, "alice", "r0"), Original(1, "bob", null), Verify(0, "bob", "r0")];

        var verdict = Evaluate(tasks);

        Assert.False(verdict.IsComplete);
        Assert.Null(verdict.Results);
        Assert.Empty(verdict.Credited(tasks));
    }

    [Fact]
    public void Evaluate_CheckDisagrees_TieBreakByTheThirdContributor()
    {
        List<JobTask> tasks = [Original(0, "mallory", "wrong"), Original(1, "alice", "r1"), Verify(0, "bob", "r0")];

        var verdict = Evaluate(tasks);

        var tieBreak = Assert.Single(verdict.NewTasks);
        Assert.Equal(TaskRole.TieBreak, tieBreak.Role);
        Assert.Equal(0, tieBreak.Index);
        Assert.Equal("alice", tieBreak.Contributor);
        Assert.Equal(Sampler.TaskId(Job, TaskRole.TieBreak, 0, "alice"), tieBreak.Id);
        Assert.False(verdict.IsComplete);
        Assert.Empty(verdict.Caught);
    }

    [Fact]
    public void Evaluate_TieBreakSidesWithTheVerification_OriginalCaughtItsOtherTasksRedoneAndNotCredited()
    {
        List<JobTask> tasks =
        [
            Original(0, "mallory", "wrong"), Original(1, "alice", "r1"), Original(2, "bob", "r2"), Original(3, "mallory", "r3-unchecked"),
            Verify(0, "bob", "r0"), TieBreak(0, "alice", "r0"),
        ];

        var verdict = Evaluate(tasks);

        Assert.Equal(["mallory"], verdict.Caught);
        Assert.Equal(CheckDecision.VerificationUpheld, Assert.Single(verdict.Checks).Decision);
        var redo = Assert.Single(verdict.NewTasks);
        Assert.Equal((TaskRole.Redo, 3), (redo.Role, redo.Index));
        Assert.Contains(redo.Contributor, (string[])["alice", "bob"]);
        Assert.False(verdict.IsComplete);

        tasks.Add(redo with { State = JobTaskState.Completed, Result = "r3", Work = 1 });
        var settled = Evaluate(tasks);

        Assert.True(settled.IsComplete);
        Assert.Equal(["r0", "r1", "r2", "r3"], settled.Results!.Select(r => r.Result));
        Assert.Equal("bob", settled.Results![0].Contributor);
        Assert.DoesNotContain(settled.Credited(tasks), t => t.Contributor == "mallory");
        Assert.Equal(5, settled.Credited(tasks).Count());
    }

    [Fact]
    public void Evaluate_DishonestVerifier_CaughtByTheTieBreakAndTheOriginalStands()
    {
        List<JobTask> tasks = [Original(0, "alice", "r0"), Original(1, "bob", "r1"), Verify(0, "mallory", "wrong"), TieBreak(0, "bob", "r0")];

        var verdict = Evaluate(tasks);

        Assert.True(verdict.IsComplete);
        Assert.Equal(["mallory"], verdict.Caught);
        Assert.Equal(CheckDecision.OriginalUpheld, verdict.Checks[0].Decision);
        Assert.Equal(["alice", "bob", "bob"], verdict.Credited(tasks).Select(t => t.Contributor));
    }

    [Fact]
    public void Evaluate_InvalidResultOfAnUnsampledTask_CaughtAndRedone()
    {
        List<JobTask> tasks =
        [
            Original(0, "alice", "r0"), Original(1, "mallory", null) with { State = JobTaskState.Invalid, Problem = "nonce does not meet" },
            Original(2, "mallory", "r2"), Verify(0, "bob", "r0"),
        ];

        var verdict = Evaluate(tasks);

        Assert.Equal(["mallory"], verdict.Caught);
        Assert.Equal([1, 2], verdict.NewTasks.Select(t => t.Index));
        Assert.All(verdict.NewTasks, t => Assert.Equal(TaskRole.Redo, t.Role));
        Assert.All(verdict.NewTasks, t => Assert.NotEqual("mallory", t.Contributor));
    }

    [Fact]
    public void Evaluate_TwoContributorsDisagree_DisputedAndTheJobFails()
    {
        string[] two = ["alice", "bob"];
        List<JobTask> tasks = [Original(0, "alice", "r0"), Original(1, "bob", "r1"), Verify(0, "bob", "other")];

        var verdict = JobVerdict.Evaluate(Job, 2, two, tasks, Sampler);

        Assert.Equal(["alice", "bob"], verdict.Disputed.Order());
        Assert.Contains("no honest contributor is left", verdict.Failure, StringComparison.Ordinal);
        Assert.Empty(verdict.Credited(tasks));
    }

    [Fact]
    public void Evaluate_AllThreeDiffer_TheJobFails()
    {
        List<JobTask> tasks = [Original(0, "alice", "a"), Verify(0, "bob", "b"), TieBreak(0, "mallory", "c")];

        var verdict = JobVerdict.Evaluate(Job, 1, Three, tasks, Sampler);

        Assert.Contains("all differ", verdict.Failure, StringComparison.Ordinal);
        Assert.False(verdict.IsComplete);
    }

    [Fact]
    public void Evaluate_FailedTask_TheJobFailsNamingIt()
    {
        List<JobTask> tasks = [Original(0, "alice", "r0"), Original(1, "bob", null) with { State = JobTaskState.Failed, Problem = "exit code 1: blender not found" }];

        var verdict = JobVerdict.Evaluate(Job, 2, Three, tasks, Sampler);

        Assert.Equal("task t00001 (bob) failed: exit code 1: blender not found", verdict.Failure);
        Assert.Empty(verdict.Credited(tasks));
    }

    private static JobVerdict Evaluate(List<JobTask> tasks) =>
        JobVerdict.Evaluate(Job, tasks.Where(t => t.Role == TaskRole.Original).Count(), Three, tasks, Sampler);

    private static JobTask Original(int index, string contributor, string? result) =>
        new(JobPlanner.TaskId(index), TaskRole.Original, index, contributor, result is null ? JobTaskState.Pending : JobTaskState.Completed, result, 1);

    private static JobTask Verify(int index, string contributor, string result) =>
        new(Sampler.TaskId(Job, TaskRole.Verification, index, contributor), TaskRole.Verification, index, contributor, JobTaskState.Completed, result, 1);

    private static JobTask TieBreak(int index, string contributor, string result) =>
        new(Sampler.TaskId(Job, TaskRole.TieBreak, index, contributor), TaskRole.TieBreak, index, contributor, JobTaskState.Completed, result, 1);
}
