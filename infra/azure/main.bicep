// batchplane on Azure: the control plane as a Linux Function App (Node, Functions v4) with
// its storage, an Event Hubs namespace for service logs, and Application Insights.
//
// Deploy with infra/azure/deploy.sh (infrastructure, then the code as a zip). Docs: docs/deploy.md.
//
// COMPUTE: this template deploys the control plane only. Compute nodes come from a *node
// provider* (shared/nodes/provider.ts). The only provider in the repository today is `local`,
// which starts every node as an agent process on the machine running the control plane: that
// is for one machine (`npm start`), not for Functions, whose instances are short-lived,
// scaled out, and do not share processes. A cloud deployment needs node agents on VMs (or
// any machine) whose BATCHPLANE_CONTROL_URL points at this app (BATCHPLANE_PUBLIC_URL below).
// The agent only makes outbound HTTPS calls to the app (POST /agent/v1/.../exchange, long
// poll), so the VMs need no inbound ports and no public IP. docs/deploy.md
// "Compute nodes" covers the agent's settings and what is still missing.
//
// ROUTES: host.json sets extensions.http.routePrefix to "" because the official Batch clients
// drop any path after the host (an endpoint of https://app/api would send every call to /api).
// The Batch endpoint is therefore the bare https://<app>.azurewebsites.net.

targetScope = 'resourceGroup'

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Function app name. It is global (<name>.azurewebsites.net): letters, digits and hyphens.')
@minLength(3)
@maxLength(40)
param appName string = 'batchplane-${uniqueString(resourceGroup().id)}'

@description('Hosting plan: FlexConsumption (FC1, scales to zero, the default) or ElasticPremium (EP1, always at least one warm instance).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param planType string = 'FlexConsumption'

@description('Node.js major version of the Functions worker. The project targets 20 (package.json engines also allows 22).')
@allowed([
  '20'
  '22'
])
param nodeVersion string = '20'

@description('Batch account name that clients sign with (BATCHPLANE_ACCOUNT_NAME): 3-24 lowercase letters and digits, like a real Batch account.')
@minLength(3)
@maxLength(24)
param accountName string = 'batchplane'

@description('Batch account key (BATCHPLANE_ACCOUNT_KEY), base64. Generate one with: openssl rand -base64 64 | tr -d "\\n"')
@secure()
@minLength(44)
param accountKey string

@description('Prefix of every table and queue the app creates (BATCHPLANE_STORAGE_PREFIX): lowercase letters and digits, starting with a letter. Table names are <prefix><name>, queues <prefix>-<name>.')
@minLength(1)
@maxLength(20)
param storagePrefix string = 'bp'

@description('BATCHPLANE_SERVICE_LOGS: "on" streams service-log events to the Event Hub below; "off" (default) as on Azure Batch, whose diagnostic logs stay off until a diagnostic setting is created.')
@allowed([
  'off'
  'on'
])
param serviceLogs string = 'off'

@description('BATCHPLANE_PUBLIC_URL override (custom domain, sovereign cloud). Empty = https://<appName>.azurewebsites.net.')
param publicUrl string = ''

@description('BATCHPLANE_NODE_HEARTBEAT_TIMEOUT: seconds of agent silence after which a node becomes unusable and its tasks are requeued.')
@minValue(5)
param nodeHeartbeatTimeoutSeconds int = 30

@description('BATCHPLANE_NODE_BOOT_TIMEOUT: seconds a new node may take before its agent first calls in.')
@minValue(10)
param nodeBootTimeoutSeconds int = 120

@description('Account quotas (BATCHPLANE_QUOTA_CORES, _POOLS, _ACTIVE_JOBS): dedicated cores, pools, active jobs and job schedules.')
@minValue(1)
param quotaCores int = 20
@minValue(1)
param quotaPools int = 20
@minValue(1)
param quotaActiveJobs int = 20

@description('Storage account redundancy.')
@allowed([
  'Standard_LRS'
  'Standard_ZRS'
  'Standard_GRS'
  'Standard_RAGRS'
])
param storageSku string = 'Standard_LRS'

@description('Flex Consumption: maximum instances (per-function scale groups count separately).')
@minValue(1)
@maxValue(1000)
param flexMaximumInstanceCount int = 40

@description('Flex Consumption: instance memory in MB.')
@allowed([
  512
  2048
  4096
])
param flexInstanceMemoryMB int = 2048

@description('Flex Consumption: concurrent HTTP requests per instance. Agents hold an exchange open for up to 20 s (long poll) while mostly idle, so this is set well above the platform default to keep idle agents from forcing scale-out.')
@minValue(1)
@maxValue(1000)
param flexHttpPerInstanceConcurrency int = 64

@description('Flex Consumption: always-ready instances for the HTTP scale group (0 = scale to zero, pay per execution; 1+ = no HTTP cold start, billed while idle).')
@minValue(0)
param flexAlwaysReadyHttpInstances int = 0

@description('Elastic Premium: instances kept warm at all times (minimum 1).')
@minValue(1)
@maxValue(20)
param premiumMinimumInstanceCount int = 1

@description('Elastic Premium: maximum instances the plan may scale out to.')
@minValue(1)
@maxValue(100)
param premiumMaximumInstanceCount int = 10

@description('Event Hubs throughput units (Standard tier).')
@minValue(1)
@maxValue(40)
param eventHubsCapacity int = 1

@description('Retention of the service-log hub in days (Standard tier: 1-7).')
@minValue(1)
@maxValue(7)
param eventHubRetentionDays int = 1

@description('Log Analytics retention in days (Application Insights data lives there).')
@minValue(30)
@maxValue(730)
param logRetentionDays int = 30

@description('Log Analytics daily ingestion cap in GB (-1 = no cap). Every timer run is logged by the Functions host, so ingestion grows even when idle.')
param logDailyQuotaGb int = -1

@description('Tags added to every resource.')
param tags object = {}

// ---------------------------------------------------------------------------------------------
// Names and shared values
// ---------------------------------------------------------------------------------------------

var isFlex = planType == 'FlexConsumption'
var allTags = union({ app: 'batchplane', 'batchplane-app': appName }, tags)

// Storage account names are global, 3-24 lowercase letters and digits.
var storageAccountName = 'bpst${uniqueString(resourceGroup().id, appName)}'
// Event Hubs namespace names are global, 6-50 characters, start with a letter.
var eventHubsNamespaceName = 'evhns-${appName}'
var serviceLogsHubName = 'batchplane-servicelogs'
var serviceLogsRuleName = 'batchplane-send-listen'
var deploymentContainerName = 'app-package'
var contentShareName = toLower(appName)
var batchEndpoint = empty(publicUrl) ? 'https://${appName}.azurewebsites.net' : publicUrl

var storageConnectionString = 'DefaultEndpointsProtocol=https;AccountName=${storage.name};AccountKey=${storage.listKeys().keys[0].value};EndpointSuffix=${environment().suffixes.storage}'

// ---------------------------------------------------------------------------------------------
// Storage: tables (pools, nodes, jobs, tasks), queues (pool commands, task submissions), blobs
// (timer/singleton leases of the Functions host; the Flex deployment package). The app creates
// its own tables and queues at start-up (StorageContext.ensure in the appStart hook), so they
// are not declared here and their names stay in one place (shared/storage).
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageAccountName
  location: location
  tags: allTags
  kind: 'StorageV2'
  sku: {
    name: storageSku
  }
  properties: {
    accessTier: 'Hot'
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // The app and the Functions host use connection strings (shared/config.ts).
    allowSharedKeyAccess: true
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

// Flex Consumption: the deployed zip package lives in this container.
resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = if (isFlex) {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Elastic Premium: the app's content file share (WEBSITE_CONTENTSHARE).
resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = if (!isFlex) {
  parent: storage
  name: 'default'
}

resource contentShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = if (!isFlex) {
  parent: fileService
  name: contentShareName
}

// ---------------------------------------------------------------------------------------------
// Event Hubs: the service-log stream (Azure Batch's "ServiceLog" diagnostic category).
// One hub, 4 partitions; events are keyed by pool id / job id so each stays in order.
// ---------------------------------------------------------------------------------------------

resource eventHubsNamespace 'Microsoft.EventHub/namespaces@2024-01-01' = {
  name: eventHubsNamespaceName
  location: location
  tags: allTags
  sku: {
    name: 'Standard'
    tier: 'Standard'
    capacity: eventHubsCapacity
  }
  properties: {
    minimumTlsVersion: '1.2'
    isAutoInflateEnabled: false
    // The app authenticates with a SAS connection string.
    disableLocalAuth: false
  }
}

resource serviceLogsHub 'Microsoft.EventHub/namespaces/eventhubs@2024-01-01' = {
  parent: eventHubsNamespace
  name: serviceLogsHubName
  properties: {
    partitionCount: 4
    messageRetentionInDays: eventHubRetentionDays
  }
}

// Hub-scoped rule: its connection string carries EntityPath=batchplane-servicelogs.
resource serviceLogsRule 'Microsoft.EventHub/namespaces/eventhubs/authorizationRules@2024-01-01' = {
  parent: serviceLogsHub
  name: serviceLogsRuleName
  properties: {
    rights: [
      'Send'
      'Listen'
    ]
  }
}

// ---------------------------------------------------------------------------------------------
// Monitoring: workspace-based Application Insights. The app starts the applicationinsights
// SDK only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (shared/telemetry), which it is here.
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: 'log-${appName}'
  location: location
  tags: allTags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: logRetentionDays
    workspaceCapping: {
      dailyQuotaGb: logDailyQuotaGb
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${appName}'
  location: location
  tags: allTags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    IngestionMode: 'LogAnalytics'
  }
}

// ---------------------------------------------------------------------------------------------
// Hosting plan and Function App
// ---------------------------------------------------------------------------------------------

var flexPlanSku = {
  name: 'FC1'
  tier: 'FlexConsumption'
}
var premiumPlanSku = {
  name: 'EP1'
  tier: 'ElasticPremium'
  family: 'EP'
}
var flexPlanProperties = {
  reserved: true // Linux
}
var premiumPlanProperties = {
  reserved: true // Linux
  maximumElasticWorkerCount: premiumMaximumInstanceCount
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${appName}'
  location: location
  tags: allTags
  kind: isFlex ? 'functionapp' : 'elastic'
  sku: isFlex ? flexPlanSku : premiumPlanSku
  properties: isFlex ? flexPlanProperties : premiumPlanProperties
}

// Settings the app reads (shared/config.ts, shared/telemetry). Every BATCHPLANE_* variable is
// described in docs/deploy.md.
var appSettings = [
  {
    name: 'AzureWebJobsStorage'
    value: storageConnectionString
  }
  {
    name: 'BATCHPLANE_ACCOUNT_NAME'
    value: accountName
  }
  {
    name: 'BATCHPLANE_ACCOUNT_KEY'
    value: accountKey
  }
  {
    name: 'BATCHPLANE_STORAGE_PREFIX'
    value: storagePrefix
  }
  {
    name: 'BATCHPLANE_PUBLIC_URL'
    value: batchEndpoint
  }
  {
    // The package directory is read-only (run from package); the local node provider and any
    // scratch files go to the instance's temporary disk.
    name: 'BATCHPLANE_DATA_DIR'
    value: '/tmp/batchplane'
  }
  {
    name: 'BATCHPLANE_NODE_HEARTBEAT_TIMEOUT'
    value: string(nodeHeartbeatTimeoutSeconds)
  }
  {
    name: 'BATCHPLANE_NODE_BOOT_TIMEOUT'
    value: string(nodeBootTimeoutSeconds)
  }
  {
    name: 'BATCHPLANE_QUOTA_CORES'
    value: string(quotaCores)
  }
  {
    name: 'BATCHPLANE_QUOTA_POOLS'
    value: string(quotaPools)
  }
  {
    name: 'BATCHPLANE_QUOTA_ACTIVE_JOBS'
    value: string(quotaActiveJobs)
  }
  {
    name: 'BATCHPLANE_EVENTHUBS_CONNECTION_STRING'
    value: serviceLogsRule.listKeys().primaryConnectionString
  }
  {
    name: 'BATCHPLANE_SERVICE_LOGS'
    value: serviceLogs
  }
  {
    // Service-log records name the account as /SUBSCRIPTIONS/<id>/RESOURCEGROUPS/<group>/...
    name: 'BATCHPLANE_SUBSCRIPTION_ID'
    value: subscription().subscriptionId
  }
  {
    name: 'BATCHPLANE_RESOURCE_GROUP'
    value: resourceGroup().name
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: appInsights.properties.ConnectionString
  }
]

// Flex Consumption sets the runtime (node, version) and the Functions version (always v4) in
// functionAppConfig and REJECTS the FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION app
// settings, so they are set on Elastic Premium only.
var flexSettings = [
  {
    // Named by functionAppConfig.deployment.storage.authentication below.
    name: 'DEPLOYMENT_STORAGE_CONNECTION_STRING'
    value: storageConnectionString
  }
]

var premiumSettings = [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'node'
  }
  {
    name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
    value: storageConnectionString
  }
  {
    name: 'WEBSITE_CONTENTSHARE'
    value: contentShareName
  }
  {
    // Zip deploy mounts the package read-only; node_modules is in the zip (no remote build).
    name: 'WEBSITE_RUN_FROM_PACKAGE'
    value: '1'
  }
  {
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'false'
  }
]

// Flex Consumption accepts only a few siteConfig properties (no linuxFxVersion, ftpsState,
// functionAppScaleLimit, ...): its runtime and scale settings live in functionAppConfig.
var flexSiteConfig = {
  appSettings: concat(appSettings, flexSettings)
}
var premiumSiteConfig = {
  linuxFxVersion: 'Node|${nodeVersion}'
  appSettings: concat(appSettings, premiumSettings)
  minTlsVersion: '1.2'
  ftpsState: 'Disabled'
  http20Enabled: true
  minimumElasticInstanceCount: premiumMinimumInstanceCount
  functionAppScaleLimit: premiumMaximumInstanceCount
}
var flexAlwaysReady = [
  {
    name: 'http'
    instanceCount: flexAlwaysReadyHttpInstances
  }
]
var flexFunctionAppConfig = {
  runtime: {
    name: 'node'
    version: nodeVersion
  }
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
      authentication: {
        type: 'StorageAccountConnectionString'
        storageAccountConnectionStringName: 'DEPLOYMENT_STORAGE_CONNECTION_STRING'
      }
    }
  }
  scaleAndConcurrency: {
    maximumInstanceCount: flexMaximumInstanceCount
    instanceMemoryMB: flexInstanceMemoryMB
    alwaysReady: flexAlwaysReadyHttpInstances > 0 ? flexAlwaysReady : []
    triggers: {
      http: {
        perInstanceConcurrency: flexHttpPerInstanceConcurrency
      }
    }
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: allTags
  kind: 'functionapp,linux'
  dependsOn: [
    deploymentContainer
    contentShare
  ]
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    siteConfig: isFlex ? flexSiteConfig : premiumSiteConfig
    functionAppConfig: isFlex ? flexFunctionAppConfig : null
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs (no secrets: keys and connection strings stay in the app settings)
// ---------------------------------------------------------------------------------------------

@description('The Batch endpoint: pass it as batchUrl (@azure/batch) or --account-endpoint (az batch).')
output batchEndpoint string = batchEndpoint

@description('The Batch account name clients sign with.')
output accountName string = accountName

@description('Name of the app setting holding the Event Hubs connection string (service logs).')
output eventHubsConnectionStringName string = 'BATCHPLANE_EVENTHUBS_CONNECTION_STRING'

@description('Event Hubs namespace, hub and authorization rule of the service logs.')
output eventHubsNamespace string = eventHubsNamespace.name
output eventHubName string = serviceLogsHub.name
output eventHubsAuthorizationRuleName string = serviceLogsRule.name

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output storageAccountName string = storage.name
output applicationInsightsName string = appInsights.name
output planType string = planType
