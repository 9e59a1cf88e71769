/**
 * The ECharts modules the console uses (tree-shaken `echarts/core`), registered once. Imported
 * dynamically by EChart.vue when a chart first comes into view, so the chart library is neither in
 * the first download of a screen nor parsed before its first paint.
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
