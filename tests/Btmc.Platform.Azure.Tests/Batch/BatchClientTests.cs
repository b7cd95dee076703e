using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure;
using Btmc.Platform.Azure.Batch;
using Btmc.Testing;
using Xunit;

namespace Btmc.Platform.Azure.Tests.Batch;

public sealed class BatchClientTests : LoopbackBatchTests
{
    [Fact]
    public async Task CreateJobAsync_NewJob_SendsTheDocumentedBodyWithTheBatchContentTypeAndApiVersion()
    {
        var job = new BatchJobCreateContent("job-1", new BatchPoolInfo { PoolId = PoolId })
        {
            Priority = 10,
            AllTasksCompleteMode = BatchAllTasksCompleteMode.NoAction,
            TaskFailureMode = BatchTaskFailureMode.NoAction,
            Constraints = new BatchJobConstraints { MaxWallClockTime = TimeSpan.FromHours(4), MaxTaskRetryCount = 2 },
        };

        var response = await NewClient().CreateJobAsync(job);

        Assert.Equal(201, response.Status);
        var request = Assert.Single(Batch.Requests);
        Assert.Equal(("POST", "/jobs"), (request.Method, request.RawPath));
        Assert.Equal("2024-07-01.20.0", request.QueryValue("api-version"));
        Assert.Equal("application/json; odata=minimalmetadata", request.ContentType);
        Assert.True(Guid.TryParse(request.Headers.GetValueOrDefault("client-request-id"), out _));
        var body = request.Json!.AsObject();
        Assert.Equal("job-1", (string?)body["id"]);
        Assert.Equal(PoolId, (string?)body["poolInfo"]?["poolId"]);
        Assert.Equal(10, (int?)body["priority"]);
        Assert.Equal("noaction", (string?)body["onAllTasksComplete"]);
        Assert.Equal("noaction", (string?)body["onTaskFailure"]);
        Assert.Equal("PT4H", (string?)body["constraints"]?["maxWallClockTime"]);
        Assert.Equal(2, (int?)body["constraints"]?["maxTaskRetryCount"]);
        Assert.False(body.ContainsKey("displayName"));
        Assert.Equal("active", (string?)Batch.FindJob("job-1")?["state"]);
    }

    [Fact]
    public async Task CreateJobAsync_ExistingJob_Throws409JobExistsWithTheServiceMessage()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.CreateJobAsync(NewJob("job-1")));

        Assert.Equal(409, failure.Status);
        Assert.Equal("JobExists", failure.ErrorCode);
        Assert.StartsWith("The specified job already exists.", failure.Message, StringComparison.Ordinal);
        Assert.Equal(409, failure.GetRawResponse()?.Status);
    }

    [Theory]
    [InlineData("")]
    [InlineData("job 1")]
    [InlineData("job/1")]
    [InlineData("jöb")]
    public async Task CreateJobAsync_MalformedJobId_IsRefusedBeforeSending(string jobId)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewClient().CreateJobAsync(NewJob(jobId)));

        Assert.Empty(Batch.Requests);
    }

    [Fact]
    public async Task CreateJobAsync_JobIdOf64Characters_IsAcceptedAnd65Refused()
    {
        var longest = new string('j', 64);

        await NewClient().CreateJobAsync(NewJob(longest));

        Assert.NotNull(Batch.FindJob(longest));
        await Assert.ThrowsAsync<ArgumentException>(() => NewClient().CreateJobAsync(NewJob(longest + "j")));
    }

    [Fact]
    public async Task GetJobAsync_ExistingJob_ReturnsStatePoolAndExecutionInfo()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));

        BatchJob job = await client.GetJobAsync("job-1");

        Assert.Equal("job-1", job.Id);
        Assert.Equal(BatchJobState.Active, job.State);
        Assert.Equal(PoolId, job.PoolInfo?.PoolId);
        Assert.Equal(PoolId, job.ExecutionInfo?.PoolId);
        Assert.NotNull(job.ExecutionInfo?.StartTime);
        Assert.Null(job.ExecutionInfo?.EndTime);
        Assert.Equal(BatchAllTasksCompleteMode.NoAction, job.AllTasksCompleteMode);
        Assert.Equal("/jobs/job-1", Batch.Requests[^1].RawPath);
    }

    [Fact]
    public async Task GetJobAsync_MissingJob_Throws404JobNotFound()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => NewClient().GetJobAsync("missing"));

        Assert.Equal(404, failure.Status);
        Assert.Equal("JobNotFound", failure.ErrorCode);
        Assert.StartsWith("The specified job does not exist.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetTasksAsync_InvalidFilter_Throws400WithTheErrorsValues()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(async () =>
        {
            await foreach (var _ in client.GetTasksAsync("job-1", filter: "bogus"))
            {
            }
        });

        Assert.Equal(400, failure.Status);
        Assert.Equal("InvalidQueryParameterValue", failure.ErrorCode);
        Assert.Contains("QueryParameterName: $filter", failure.Message, StringComparison.Ordinal);
        Assert.Contains("QueryParameterValue: bogus", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TerminateJobAsync_ActiveJob_CompletesItWithTheReason()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));

        var response = await client.TerminateJobAsync("job-1", "owner cancelled");

        Assert.Equal(202, response.Status);
        var request = Batch.Requests[^1];
        Assert.Equal(("POST", "/jobs/job-1/terminate"), (request.Method, request.RawPath));
        Assert.Equal("owner cancelled", (string?)request.Json?["terminateReason"]);
        BatchJob job = await client.GetJobAsync("job-1");
        Assert.Equal(BatchJobState.Completed, job.State);
        Assert.Equal("owner cancelled", job.ExecutionInfo?.TerminationReason);
        Assert.NotNull(job.ExecutionInfo?.EndTime);
    }

    [Fact]
    public async Task TerminateJobAsync_NoReason_SendsNoBodyAndTheServiceSaysUserTerminate()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));

        await client.TerminateJobAsync("job-1");

        Assert.Empty(Batch.Requests[^1].Body);
        Assert.Equal("UserTerminate", (string?)Batch.FindJob("job-1")?["executionInfo"]?["terminateReason"]);
    }

    [Fact]
    public async Task TerminateJobAsync_CompletedJob_Throws409JobCompleted()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.TerminateJobAsync("job-1");

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.TerminateJobAsync("job-1"));

        Assert.Equal((409, "JobCompleted"), (failure.Status, failure.ErrorCode));
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_FullTask_SendsTheDocumentedShape()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        var identity = new BatchNodeIdentityReference(IdentityId);
        var task = new BatchTaskCreateContent("task-1", "/bin/sh -c \"echo hi\"")
        {
            DisplayName = "alice",
            ResourceFiles =
            [
                new ResourceFile { HttpUri = new Uri("https://btmcstore.blob.core.windows.net/inputs/scene.blend"), FilePath = "scene.blend", IdentityReference = identity },
                new ResourceFile { StorageContainerUri = new Uri("https://btmcstore.blob.core.windows.net/textures"), BlobPrefix = "wood/", FilePath = "textures" },
            ],
            OutputFiles =
            [
                new OutputFile(
                    "out/**/*",
                    new OutputFileDestination { Container = new OutputFileBlobContainerDestination(OutputContainer) { Path = "job-1/task-1/out", IdentityReference = identity } },
                    new OutputFileUploadConfig(OutputFileUploadCondition.TaskCompletion)),
            ],
            EnvironmentSettings = [new EnvironmentSetting("BTMC_CONTRIBUTOR", "alice")],
            Constraints = new BatchTaskConstraints { MaxTaskRetryCount = 2, MaxWallClockTime = TimeSpan.FromMinutes(90), RetentionTime = TimeSpan.FromDays(1) },
            UserIdentity = new UserIdentity { AutoUser = new AutoUserSpecification { Scope = AutoUserScope.Pool, ElevationLevel = ElevationLevel.NonAdmin } },
        };

        BatchCreateTaskCollectionResult result = await client.CreateTaskCollectionAsync("job-1", [task]);

        var added = Assert.Single(result.Values);
        Assert.Equal((BatchTaskAddStatus.Success, "task-1"), (added.Status, added.TaskId));
        Assert.NotNull(added.ETag);
        Assert.EndsWith("/jobs/job-1/tasks/task-1", added.Location, StringComparison.Ordinal);
        var request = Batch.Requests[^1];
        Assert.Equal(("POST", "/jobs/job-1/addtaskcollection"), (request.Method, request.RawPath));
        Assert.Equal("application/json; odata=minimalmetadata", request.ContentType);
        var sent = request.Json!["value"]!.AsArray().Single()!.AsObject();
        var expected = JsonNode.Parse($$"""
            {
              "id": "task-1",
              "displayName": "alice",
              "commandLine": "/bin/sh -c \"echo hi\"",
              "resourceFiles": [
                { "httpUrl": "https://btmcstore.blob.core.windows.net/inputs/scene.blend", "filePath": "scene.blend", "identityReference": { "resourceId": "{{IdentityId}}" } },
                { "storageContainerUrl": "https://btmcstore.blob.core.windows.net/textures", "blobPrefix": "wood/", "filePath": "textures" }
              ],
              "outputFiles": [
                {
                  "filePattern": "out/**/*",
                  "destination": { "container": { "path": "job-1/task-1/out", "containerUrl": "{{OutputContainer.AbsoluteUri}}", "identityReference": { "resourceId": "{{IdentityId}}" } } },
                  "uploadOptions": { "uploadCondition": "taskcompletion" }
                }
              ],
              "environmentSettings": [ { "name": "BTMC_CONTRIBUTOR", "value": "alice" } ],
              "constraints": { "maxWallClockTime": "PT1H30M", "retentionTime": "P1D", "maxTaskRetryCount": 2 },
              "userIdentity": { "autoUser": { "scope": "pool", "elevationLevel": "nonadmin" } }
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, sent), sent.ToJsonString());
        Assert.Equal("active", (string?)Batch.FindTask("job-1", "task-1")?["state"]);
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_TaskIdAlreadyInTheJob_ReportsClientErrorTaskExistsPerTask()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1")]);

        BatchCreateTaskCollectionResult result = await client.CreateTaskCollectionAsync("job-1", [NewTask("TASK-1"), NewTask("task-2")]);

        var byId = result.Values.ToDictionary(value => value.TaskId, StringComparer.Ordinal);
        Assert.Equal(["TASK-1", "task-2"], byId.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(BatchTaskAddStatus.ClientError, byId["TASK-1"].Status);
        Assert.Equal("TaskExists", byId["TASK-1"].Error?.Code);
        Assert.StartsWith("The specified task already exists.", byId["TASK-1"].Error?.Message?.Value, StringComparison.Ordinal);
        Assert.Equal("en-US", byId["TASK-1"].Error?.Message?.Lang);
        Assert.Equal(BatchTaskAddStatus.Success, byId["task-2"].Status);
        Assert.Null(byId["task-2"].Error);
        Assert.Equal(["task-1", "task-2"], Batch.TaskIds("job-1"));
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_101Tasks_IsRefusedBeforeSending()
    {
        var tasks = Enumerable.Range(0, 101).Select(i => NewTask($"task-{i}")).ToArray();

        var failure = await Assert.ThrowsAsync<ArgumentException>(() => NewClient().CreateTaskCollectionAsync("job-1", tasks));

        Assert.Contains("1 to 100 tasks, not 101", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Batch.Requests);
        Assert.Empty(Batch.Violations);
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_BodyOf1MB_IsRefusedBeforeSending()
    {
        var tasks = Enumerable.Range(0, 100).Select(i => NewTask($"task-{i}") with { CommandLine = new string('x', 11_000) }).ToArray();

        var failure = await Assert.ThrowsAsync<ArgumentException>(() => NewClient().CreateTaskCollectionAsync("job-1", tasks));

        Assert.Contains("under 1 MB", failure.Message, StringComparison.Ordinal);
        Assert.Empty(Batch.Requests);
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_MissingJob_Throws404JobNotFound()
    {
        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => NewClient().CreateTaskCollectionAsync("missing", [NewTask("task-1")]));

        Assert.Equal((404, "JobNotFound"), (failure.Status, failure.ErrorCode));
    }

    [Fact]
    public async Task GetTasksAsync_NineTasksInPagesOfTwo_FollowsEveryNextLinkWithTheSelect()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        var ids = Enumerable.Range(1, 9).Select(i => $"task-{i}").ToArray();
        await client.CreateTaskCollectionAsync("job-1", [.. ids.Select(NewTask)]);
        Batch.StartTask("job-1", "task-3");
        var before = Batch.Requests.Count;

        var tasks = new List<BatchTask>();
        await foreach (var task in client.GetTasksAsync("job-1", select: ["id", "state", "executionInfo"]))
        {
            tasks.Add(task);
        }

        Assert.Equal(ids, tasks.Select(task => task.Id));
        Assert.Equal(BatchTaskState.Running, tasks[2].State);
        Assert.All(tasks.Where(task => task.Id != "task-3"), task => Assert.Equal(BatchTaskState.Active, task.State));
        Assert.All(tasks, task => Assert.Null(task.CommandLine)); // not selected
        var pages = Batch.Requests.Skip(before).ToArray();
        Assert.Equal(5, pages.Length);
        Assert.All(pages, page => Assert.Equal(("GET", "/jobs/job-1/tasks", "id,state,executionInfo", "2024-07-01.20.0"),
            (page.Method, page.RawPath, page.QueryValue("$select"), page.QueryValue("api-version"))));
        Assert.Equal([null, "2", "4", "6", "8"], pages.Select(page => page.QueryValue("$skiptoken")));
    }

    [Fact]
    public async Task GetTasksAsync_AsPages_ExposesTheNextLinkAsContinuationToken()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1"), NewTask("task-2"), NewTask("task-3")]);

        var pages = new List<Page<BatchTask>>();
        await foreach (var page in client.GetTasksAsync("job-1").AsPages())
        {
            pages.Add(page);
        }

        Assert.Equal([2, 1], pages.Select(page => page.Values.Count));
        Assert.StartsWith(Batch.Endpoint.AbsoluteUri + "jobs/job-1/tasks?", pages[0].ContinuationToken, StringComparison.Ordinal);
        Assert.Null(pages[1].ContinuationToken);
    }

    [Fact]
    public async Task GetTasksAsync_NextLinkWithoutApiVersion_AddsIt()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1"), NewTask("task-2"), NewTask("task-3")]);
        Batch.NextLinkWithoutApiVersion = true;

        var ids = new List<string>();
        await foreach (var task in client.GetTasksAsync("job-1"))
        {
            ids.Add(task.Id);
        }

        Assert.Equal(["task-1", "task-2", "task-3"], ids);
        Assert.Equal("2024-07-01.20.0", Batch.Requests[^1].QueryValue("api-version"));
    }

    [Fact]
    public async Task GetTasksAsync_NextLinkToAnotherHost_StopsWithoutFollowingIt()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1"), NewTask("task-2"), NewTask("task-3")]);
        Batch.NextLinkAuthority = "http://127.0.0.2:9";
        var before = Batch.Requests.Count;

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in client.GetTasksAsync("job-1"))
            {
            }
        });

        Assert.Contains("127.0.0.2", failure.Message, StringComparison.Ordinal);
        Assert.Equal(1, Batch.Requests.Count - before);
    }

    [Fact]
    public async Task GetTasksAsync_MaxResults_SizesThePages()
    {
        Batch.PageSize = 10;
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [.. Enumerable.Range(1, 7).Select(i => NewTask($"task-{i}"))]);

        var sizes = new List<int>();
        await foreach (var page in client.GetTasksAsync("job-1", maxResults: 3).AsPages())
        {
            sizes.Add(page.Values.Count);
        }

        Assert.Equal([3, 3, 1], sizes);
    }

    [Fact]
    public async Task GetTaskFileAsync_ExistingFile_ReturnsItsBytesFromTheEscapedPath()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1")]);
        byte[] frame = [0x89, 0x50, 0x4E, 0x47, 0x00, 0xFF];
        Batch.SetTaskFile("job-1", "task-1", "wd/out/frame 1#.png", frame);

        var content = await client.GetTaskFileAsync("job-1", "task-1", "wd/out/frame 1#.png");

        Assert.Equal(frame, content);
        var request = Batch.Requests[^1];
        Assert.Equal(("GET", "/jobs/job-1/tasks/task-1/files/wd/out/frame%201%23.png"), (request.Method, request.RawPath));
    }

    [Fact]
    public async Task GetTaskFileAsync_MissingFileTaskOrJob_ReturnsNull()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1")]);

        Assert.Null(await client.GetTaskFileAsync("job-1", "task-1", "stdout.txt"));
        Assert.Null(await client.GetTaskFileAsync("job-1", "task-9", "stdout.txt"));
        Assert.Null(await client.GetTaskFileAsync("job-9", "task-1", "stdout.txt"));
        Assert.Equal(3, Batch.Requests.Count(request => request.RawPath.Contains("/files/", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("../stdout.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("wd//out")]
    [InlineData("wd/./out")]
    [InlineData("wd\\out")]
    [InlineData("")]
    public async Task GetTaskFileAsync_PathOutsideTheTaskDirectory_IsRefusedBeforeSending(string path)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => NewClient().GetTaskFileAsync("job-1", "task-1", path));

        Assert.Empty(Batch.Requests);
    }

    [Fact]
    public async Task CreateJobAsync_Throttled429TwiceWithRetryAfter_WaitsAndSucceeds()
    {
        var client = NewClient(Options(maxRetries: 3));
        Batch.FailNext(2, status: 429, retryAfterSeconds: 1);

        var elapsed = Stopwatch.StartNew();
        var response = await client.CreateJobAsync(NewJob("job-1"));
        elapsed.Stop();

        Assert.Equal(201, response.Status);
        Assert.Equal(3, Batch.Requests.Count);
        // The client's own back-off is 10-50 ms here; two waits of about a second are the server's Retry-After.
        Assert.True(elapsed.Elapsed >= TimeSpan.FromSeconds(1.9), $"Retried after {elapsed.Elapsed}; Retry-After asked for 2 x 1 s.");
        Assert.NotNull(Batch.FindJob("job-1"));
    }

    [Fact]
    public async Task GetJobAsync_ThrottledBeyondTheRetries_GivesUpWith429()
    {
        var client = NewClient(Options(maxRetries: 2));
        await client.CreateJobAsync(NewJob("job-1"));
        var before = Batch.Requests.Count;
        Batch.FailNext(10, status: 429);

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetJobAsync("job-1"));

        Assert.Equal((429, "TooManyRequests"), (failure.Status, failure.ErrorCode));
        Assert.Equal(3, Batch.Requests.Count - before);
    }

    [Fact]
    public async Task CreateTaskCollectionAsync_ServerBusy503_IsRetriedAndAddsTheTasksOnce()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        var before = Batch.Requests.Count;
        Batch.FailNext(2, status: 503);

        BatchCreateTaskCollectionResult result = await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1"), NewTask("task-2")]);

        Assert.All(result.Values, value => Assert.Equal(BatchTaskAddStatus.Success, value.Status));
        Assert.Equal(3, Batch.Requests.Count - before);
        Assert.Equal(["task-1", "task-2"], Batch.TaskIds("job-1"));
    }

    [Fact]
    public async Task GetJobAsync_AccountGone_ThrowsStatus0AfterTheRetries()
    {
        var endpoint = Batch.Endpoint;
        var credential = Batch.Credential;
        await Batch.DisposeAsync();
        var client = new BatchClient(endpoint, credential, Options(maxRetries: 1));

        var failure = await Assert.ThrowsAsync<RequestFailedException>(() => client.GetJobAsync("job-1"));

        Assert.Equal(0, failure.Status);
        Assert.Contains("got no response after 2 attempt(s)", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EveryOperation_AnyRequest_CarriesATokenForTheBatchScope()
    {
        var client = NewClient();
        await client.CreateJobAsync(NewJob("job-1"));
        await client.CreateTaskCollectionAsync("job-1", [NewTask("task-1")]);
        await client.GetJobAsync("job-1");
        await foreach (var _ in client.GetTasksAsync("job-1"))
        {
        }

        await client.GetTaskFileAsync("job-1", "task-1", "stdout.txt");
        await client.TerminateJobAsync("job-1");

        Assert.NotEmpty(Batch.Credential.Requests);
        Assert.All(Batch.Credential.Requests, context => Assert.Equal(["https://batch.core.windows.net/.default"], context.Scopes));
        Assert.Equal("https://batch.core.windows.net/.default", BatchClient.TokenScope);
        Assert.Equal(6, Batch.Requests.Count);
        Assert.All(Batch.Requests, request => Assert.StartsWith("Bearer loopback-", request.Authorization, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LoopbackAccount_TokenForAnotherScope_Answers401AuthenticationFailed()
    {
        // The loopback account checks the scope the token was issued for; a client asking for another scope fails.
        using var http = new HttpClient();
        var token = Batch.Credential.GetToken(new global::Azure.Core.TokenRequestContext(["https://management.azure.com/.default"]), default).Token;
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(Batch.Endpoint, "jobs/job-1?api-version=2024-07-01.20.0"));
        request.Headers.Authorization = new("Bearer", token);

        using var response = await http.SendAsync(request);

        Assert.Equal(401, (int)response.StatusCode);
        Assert.Contains("AuthenticationFailed", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BatchClientOptions.ServiceVersion.V2024_07_01_20_0, "2024-07-01.20.0")]
    [InlineData(BatchClientOptions.ServiceVersion.V2025_06_01, "2025-06-01")]
    public async Task AnyOperation_ServiceVersion_IsSentAsApiVersion(BatchClientOptions.ServiceVersion version, string expected)
    {
        var client = NewClient(Options(version: version));

        await client.CreateJobAsync(NewJob("job-1"));
        await client.GetJobAsync("job-1");

        Assert.All(Batch.Requests, request => Assert.Equal(expected, request.QueryValue("api-version")));
    }

    [Fact]
    public void BatchClientOptions_Default_Is2024_07_01_20_0WithBoundedRetries()
    {
        var options = new BatchClientOptions();

        Assert.Equal(BatchClientOptions.ServiceVersion.V2024_07_01_20_0, options.Version);
        Assert.Equal(4, options.Retry.MaxRetries);
        Assert.Equal(global::Azure.Core.RetryMode.Exponential, options.Retry.Mode);
        Assert.Throws<ArgumentOutOfRangeException>(() => new BatchClientOptions((BatchClientOptions.ServiceVersion)99));
    }

    [Theory]
    [InlineData("http://myaccount.westeurope.batch.azure.com")]
    [InlineData("https://myaccount.westeurope.batch.azure.com/jobs")]
    [InlineData("https://myaccount.westeurope.batch.azure.com/?x=1")]
    public void BatchClient_EndpointNotAnHttpsAccountAddress_IsRefused(string endpoint)
    {
        Assert.Throws<ArgumentException>(() => new BatchClient(new Uri(endpoint), new LoopbackTokenCredential()));
    }

    [Fact]
    public void BatchClient_HttpsAccountAddress_IsKeptWithATrailingSlash()
    {
        var client = new BatchClient(new Uri("https://myaccount.westeurope.batch.azure.com"), new LoopbackTokenCredential());

        Assert.Equal("https://myaccount.westeurope.batch.azure.com/", client.Endpoint.AbsoluteUri);
    }

    private static BatchJobCreateContent NewJob(string id) => new(id, new BatchPoolInfo { PoolId = PoolId })
    {
        AllTasksCompleteMode = BatchAllTasksCompleteMode.NoAction,
    };

    private static BatchTaskCreateContent NewTask(string id) => new(id, "/bin/sh -c \"echo " + id + "\"");
}
