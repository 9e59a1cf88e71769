/**
 * ECharts with only what the console draws (tree-shaken `echarts/core`). Loaded on demand by
 * EChart.vue when a chart scrolls into view, so a screen's first paint never waits for it.
 */
import { use, init } from 'echarts/core'
import { BarChart, FunnelChart, HeatmapChart, LineChart } from 'echarts/charts'
import {
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
} from 'echarts/components'
import { CanvasRenderer } from 'echarts/renderers'

use([
  LineChart,
  BarChart,
  FunnelChart,
  HeatmapChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
])

export { init }
