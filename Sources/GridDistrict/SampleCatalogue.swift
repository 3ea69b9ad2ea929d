import GridConfiguration
import GridSchema

/// The sample catalogue: urban-management events and components (digital urban management coding)
/// and grid-governance extensions. Filing and closing criteria follow one pattern per kind.
enum SampleCatalogue {
    static let categories: [Category] = rows.map { row in
        Category(
            code: row.0,
            kind: Category.Kind(rawValue: row.1)!,
            group: row.2,
            nameZh: row.3,
            nameEn: row.4,
            keywords: row.5.split(separator: ";").map(String.init),
            filingCriteria: "现场可核实，位于本网格内 / Verifiable on site, inside the grid",
            closingCriteria: row.1 == "governance"
                ? "当事人确认已解决 / The people concerned confirm it is resolved" : "复核照片显示已处置 / A verification photo shows it fixed",
            normalLimit: GridConfigReader.parseDuration(row.6)!,
            urgentLimit: GridConfigReader.parseDuration(row.7)!,
            clock: Category.Clock(rawValue: row.8)!,
            responsibleUnit: row.9,
            priority: Priority(rawValue: row.10)!,
            serviceCode: row.0,
            partTimeAllowed: row.11,
            volunteer: row.12
        )
    }

    // code, kind, group, name (zh), name (en), keywords, normal limit, urgent limit, clock, unit, priority, part-time, volunteer;
    // a row a line, as a table reads best:
    // swift-format-ignore
    static let rows: [(String, String, String, String, String, String, String, String, String, String, String, Bool, Bool)] = [
        ("E-01-01", "event", "市容环境 City appearance", "私搭乱建", "Illegal construction", "违建;搭建;illegal building", "5d", "2d", "working", "城管执法中队 Urban management squad", "normal", false, false),
        ("E-01-02", "event", "市容环境 City appearance", "暴露垃圾", "Exposed rubbish", "垃圾;rubbish;litter", "2h", "1h", "natural", "环卫所 Sanitation office", "normal", true, false),
        ("E-01-03", "event", "市容环境 City appearance", "积存垃圾渣土", "Accumulated waste and muck", "渣土;muck;debris", "1d", "4h", "working", "环卫所 Sanitation office", "normal", false, false),
        ("E-01-04", "event", "市容环境 City appearance", "道路不洁", "Unclean road", "路面脏;dirty road", "4h", "2h", "natural", "环卫所 Sanitation office", "normal", true, false),
        ("E-01-05", "event", "市容环境 City appearance", "水域不洁", "Polluted waterway", "河道;漂浮物;river", "1d", "4h", "working", "河道管理所 River management office", "normal", false, false),
        ("E-01-06", "event", "市容环境 City appearance", "绿地脏乱", "Littered green space", "绿地垃圾;park litter", "1d", "4h", "working", "园林所 Parks office", "normal", true, false),
        ("E-01-07", "event", "市容环境 City appearance", "焚烧垃圾", "Burning rubbish", "焚烧;烟;smoke", "2h", "30m", "natural", "城管执法中队 Urban management squad", "urgent", false, false),
        ("E-01-08", "event", "市容环境 City appearance", "油烟污染", "Cooking fume pollution", "油烟;fumes", "3d", "1d", "working", "生态环境所 Environment office", "normal", false, false),
        ("E-02-01", "event", "宣传广告 Advertising", "非法小广告", "Illegal flyers", "小广告;牛皮癣;flyer", "1d", "4h", "working", "城管执法中队 Urban management squad", "normal", true, false),
        ("E-02-02", "event", "宣传广告 Advertising", "违章张贴悬挂", "Unauthorised posters and banners", "横幅;banner;poster", "1d", "4h", "working", "城管执法中队 Urban management squad", "normal", true, false),
        ("E-02-03", "event", "宣传广告 Advertising", "广告招牌破损", "Damaged shop sign", "招牌;sign", "2d", "4h", "working", "市容所 City appearance office", "normal", false, false),
        ("E-03-01", "event", "施工管理 Construction", "施工扰民", "Construction noise", "夜间施工;噪声;noise", "1d", "2h", "natural", "住建所 Construction office", "normal", false, false),
        ("E-03-02", "event", "施工管理 Construction", "工地扬尘", "Construction dust", "扬尘;dust", "1d", "4h", "working", "住建所 Construction office", "normal", false, false),
        ("E-03-03", "event", "施工管理 Construction", "道路遗撒", "Spillage on the road", "遗撒;spill", "4h", "1h", "natural", "城管执法中队 Urban management squad", "urgent", false, false),
        ("E-04-01", "event", "突发事件 Emergencies", "路面塌陷", "Road collapse", "塌陷;坑;sinkhole", "2h", "30m", "natural", "市政设施所 Municipal facilities office", "emergency", false, false),
        ("E-04-02", "event", "突发事件 Emergencies", "自来水管破裂", "Burst water main", "爆管;漏水;burst pipe", "2h", "30m", "natural", "水务集团 Water company", "emergency", false, false),
        ("E-04-03", "event", "突发事件 Emergencies", "燃气管道破裂", "Gas leak", "燃气;煤气;gas", "1h", "15m", "natural", "燃气公司 Gas company", "emergency", false, false),
        ("E-04-04", "event", "突发事件 Emergencies", "下水道堵塞或破损", "Blocked or broken sewer", "下水道;堵塞;sewer", "4h", "1h", "natural", "排水所 Drainage office", "urgent", false, false),
        ("E-04-05", "event", "突发事件 Emergencies", "道路积水", "Standing water on the road", "积水;flooding", "2h", "30m", "natural", "排水所 Drainage office", "urgent", false, false),
        ("E-04-06", "event", "突发事件 Emergencies", "火情", "Fire", "火灾;着火;fire", "30m", "15m", "natural", "消防救援站 Fire station", "emergency", false, false),
        ("E-05-01", "event", "街面秩序 Street order", "无照经营游商", "Unlicensed street vending", "游商;摊贩;vendor", "4h", "1h", "working", "城管执法中队 Urban management squad", "normal", false, false),
        ("E-05-02", "event", "街面秩序 Street order", "占道经营", "Business on the pavement", "占道;pavement", "4h", "1h", "working", "城管执法中队 Urban management squad", "normal", false, false),
        ("E-05-03", "event", "街面秩序 Street order", "机动车乱停放", "Illegal parking", "停车;parking", "2h", "30m", "natural", "交警中队 Traffic police", "normal", true, false),
        ("E-05-04", "event", "街面秩序 Street order", "非机动车乱停放", "Disorderly bicycles", "共享单车;bicycle", "4h", "1h", "natural", "城管执法中队 Urban management squad", "normal", true, false),
        ("E-05-05", "event", "街面秩序 Street order", "露天烧烤", "Open-air barbecue", "烧烤;barbecue", "2h", "1h", "natural", "城管执法中队 Urban management squad", "normal", false, false),
        ("C-01-01", "component", "公用设施 Public facilities", "上水井盖", "Water manhole cover", "井盖;manhole", "1d", "2h", "natural", "水务集团 Water company", "urgent", true, false),
        ("C-01-02", "component", "公用设施 Public facilities", "污水井盖", "Sewer manhole cover", "井盖;manhole", "1d", "2h", "natural", "排水所 Drainage office", "urgent", true, false),
        ("C-01-03", "component", "公用设施 Public facilities", "电力井盖", "Power manhole cover", "井盖;manhole", "1d", "2h", "natural", "供电公司 Power company", "urgent", true, false),
        ("C-01-04", "component", "公用设施 Public facilities", "消防栓", "Fire hydrant", "消防栓;hydrant", "1d", "4h", "natural", "消防救援站 Fire station", "urgent", false, false),
        ("C-01-05", "component", "公用设施 Public facilities", "路灯", "Streetlight", "路灯;light", "3d", "1d", "working", "路灯所 Street lighting office", "normal", true, false),
        ("C-01-06", "component", "公用设施 Public facilities", "公交站亭", "Bus shelter", "公交站;bus stop", "5d", "1d", "working", "公交公司 Bus company", "normal", false, false),
        ("C-02-01", "component", "道路交通 Roads", "交通信号灯", "Traffic light", "红绿灯;signal", "4h", "1h", "natural", "交警中队 Traffic police", "urgent", false, false),
        ("C-02-02", "component", "道路交通 Roads", "交通标志牌", "Traffic sign", "标志牌;sign", "3d", "1d", "working", "交警中队 Traffic police", "normal", false, false),
        ("C-02-03", "component", "道路交通 Roads", "护栏", "Guardrail", "护栏;railing", "3d", "1d", "working", "市政设施所 Municipal facilities office", "normal", false, false),
        ("C-02-04", "component", "道路交通 Roads", "人行道板", "Pavement slab", "人行道;pavement", "5d", "1d", "working", "市政设施所 Municipal facilities office", "normal", false, false),
        ("C-03-01", "component", "市容环境 City appearance", "公共厕所", "Public toilet", "厕所;toilet", "1d", "4h", "working", "环卫所 Sanitation office", "normal", false, false),
        ("C-03-02", "component", "市容环境 City appearance", "垃圾箱", "Litter bin", "垃圾桶;bin", "2d", "4h", "working", "环卫所 Sanitation office", "normal", true, false),
        ("C-04-01", "component", "园林绿化 Green space", "行道树", "Street tree", "树木;倒伏;tree", "3d", "2h", "natural", "园林所 Parks office", "normal", false, false),
        ("C-04-02", "component", "园林绿化 Green space", "绿地设施", "Green-space furniture", "长椅;bench", "5d", "1d", "working", "园林所 Parks office", "normal", false, false),
        ("G-01-01", "governance", "邻里纠纷 Neighbour disputes", "噪声扰邻", "Noise between neighbours", "噪声;noise", "3d", "1d", "working", "社区调解委员会 Community mediation committee", "normal", false, false),
        ("G-01-02", "governance", "邻里纠纷 Neighbour disputes", "漏水纠纷", "Leak between flats", "漏水;leak", "3d", "1d", "working", "社区调解委员会 Community mediation committee", "normal", false, false),
        ("G-01-03", "governance", "邻里纠纷 Neighbour disputes", "宠物扰民", "Pets disturbing neighbours", "宠物;狗;dog", "3d", "1d", "working", "社区调解委员会 Community mediation committee", "normal", false, false),
        ("G-02-01", "governance", "安全隐患 Safety hazards", "电动车楼道充电", "E-bike charging in a stairwell", "电动车;充电;charging", "1d", "2h", "natural", "社区安全员 Community safety officer", "urgent", false, false),
        ("G-02-02", "governance", "安全隐患 Safety hazards", "消防通道堵塞", "Blocked fire lane", "消防通道;fire lane", "4h", "1h", "natural", "消防救援站 Fire station", "urgent", false, false),
        ("G-02-03", "governance", "安全隐患 Safety hazards", "危房隐患", "Unsafe building", "危房;裂缝;crack", "1d", "2h", "natural", "住建所 Construction office", "urgent", false, false),
        ("G-02-04", "governance", "安全隐患 Safety hazards", "高空坠物风险", "Risk of falling objects", "高空;坠物;falling", "1d", "2h", "natural", "物业 Property management", "urgent", false, false),
        ("G-03-01", "governance", "民生服务 Livelihood services", "独居老人关怀", "Care for an elderly person living alone", "老人;elderly", "2d", "4h", "working", "社区居委会 Community committee", "normal", false, false),
        ("G-03-02", "governance", "民生服务 Livelihood services", "困难帮扶", "Help for a family in hardship", "困难;救助;hardship", "5d", "1d", "working", "社区居委会 Community committee", "normal", false, false),
        ("G-03-03", "governance", "民生服务 Livelihood services", "政策咨询", "Policy enquiry", "咨询;enquiry", "3d", "1d", "working", "社区居委会 Community committee", "normal", false, false),
        ("G-04-01", "governance", "微心愿 Citizen micro-wishes", "代买代办", "Errands for a resident", "代买;跑腿;errand", "3d", "1d", "natural", "志愿服务站 Volunteer station", "normal", true, true),
        ("G-04-02", "governance", "微心愿 Citizen micro-wishes", "陪伴就医", "Company to a hospital visit", "就医;陪同;hospital", "3d", "1d", "natural", "志愿服务站 Volunteer station", "normal", false, true),
        ("G-04-03", "governance", "微心愿 Citizen micro-wishes", "学业辅导", "Homework help", "辅导;tutoring", "7d", "2d", "natural", "志愿服务站 Volunteer station", "normal", false, true),
        ("G-05-01", "governance", "应急 Emergencies", "防汛防台", "Flood and typhoon response", "台风;防汛;typhoon", "1h", "15m", "natural", "街道应急办 Subdistrict emergency office", "emergency", false, false),
        ("G-05-02", "governance", "应急 Emergencies", "公共卫生应急", "Public-health emergency", "疫情;health", "1h", "15m", "natural", "社区卫生服务中心 Community health centre", "emergency", false, false),
        ("G-05-03", "governance", "应急 Emergencies", "人员走失", "Missing person", "走失;missing", "1h", "15m", "natural", "派出所 Police station", "emergency", false, false),
    ]
}
